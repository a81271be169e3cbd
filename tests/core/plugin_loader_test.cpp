#include "plugin_loader.h"

#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "elf_exports.h"
#include "peft/error.h"
#include "peft/method.h"
#include "peft/plugin.h"
#include "support/temp_folder.h"
#include "support/unprivileged.h"

namespace fs = std::filesystem;
using peft::PluginRecord;
using peft::test::TempFolder;

namespace {

const fs::path kFixtures = PEFT_FIXTURE_PLUGIN_DIR;

// Copies fixture library `fixture` (e.g. "api_version") into `folder` as `file_name` (default: its own name).
fs::path add_fixture(const fs::path& folder, const std::string& fixture, const std::string& file_name = "") {
  const fs::path target = folder / (file_name.empty() ? "libfixture_" + fixture + ".so" : file_name);
  fs::create_directories(folder);
  fs::copy_file(kFixtures / ("libfixture_" + fixture + ".so"), target, fs::copy_options::overwrite_existing);
  return target;
}

// Loads the single fixture `fixture` from a fresh folder and returns its record.
PluginRecord load_single(const std::string& fixture) {
  TempFolder folder;
  add_fixture(folder.path(), fixture);
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{folder.path(), false}});
  CATCH_REQUIRE(records.size() == 1);
  return records.front();
}

}  // namespace

CATCH_TEST_CASE("good plugins load and register what their descriptor declares") {
  TempFolder folder;
  const fs::path method_path = add_fixture(folder.path(), "method");
  add_fixture(folder.path(), "backbone");
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{folder.path(), false}});

  CATCH_REQUIRE(records.size() == 2);
  // Files load in name order: backbone before method.
  CATCH_CHECK(records[0].loaded());
  CATCH_CHECK(records[0].kind == "backbone");
  CATCH_CHECK(records[0].name == "fixture_backbone");
  CATCH_CHECK(records[1].loaded());
  CATCH_CHECK(records[1].kind == "method");
  CATCH_CHECK(records[1].name == "fixture_method");
  CATCH_CHECK(records[1].version == "1.0.0");
  CATCH_CHECK(records[1].api_version == PEFT_API_VERSION);
  CATCH_CHECK(records[1].build_tag == PEFT_BUILD_TAG);
  CATCH_CHECK(records[1].reason.empty());

  const auto& entry = registry.methods().at("fixture_method");
  CATCH_CHECK(entry.origin == method_path.string());
  CATCH_CHECK(entry.summary == "A fixture method");
  CATCH_CHECK(registry.backbones().find("fixture_backbone") != nullptr);
}

namespace {

// True when `library` is mapped into this process; RTLD_NOLOAD finds it without loading it again.
bool is_mapped(const fs::path& library) {
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) ::dlclose(handle);
  return handle != nullptr;
}

}  // namespace

CATCH_TEST_CASE("objects made by a plugin work across the library boundary and outlive the loader") {
  std::shared_ptr<peft::Method> method;
  fs::path library;
  {
    TempFolder folder;
    library = add_fixture(folder.path(), "method");
    peft::Registry registry;
    peft::load_plugins(registry, {{folder.path(), false}});
    method = registry.methods().at("fixture_method").create({});
  }
  CATCH_REQUIRE(method != nullptr);
  CATCH_CHECK(dynamic_cast<peft::Method*>(method.get()) != nullptr);
  CATCH_CHECK(is_mapped(library));
  method.reset();  // runs the plugin's destructor after its registry is gone: must not crash
  // No handle and no object is left, and the library still stays: plugins are never unloaded.
  CATCH_CHECK(is_mapped(library));
}

CATCH_TEST_CASE("rejected and unused plugin libraries are never unloaded either") {
  fs::path rejected;
  fs::path unused;
  {
    TempFolder folder;
    rejected = add_fixture(folder.path(), "api_version");
    unused = add_fixture(folder.path(), "backbone");
    peft::Registry registry;
    peft::load_plugins(registry, {{folder.path(), false}});
  }
  CATCH_CHECK(is_mapped(rejected));
  CATCH_CHECK(is_mapped(unused));
}

CATCH_TEST_CASE("each broken plugin is rejected with a one-line reason naming both values") {
  struct Case {
    const char* fixture;
    std::string reason;
  };
  const std::string host_api = std::to_string(PEFT_API_VERSION);
  const std::string host_size = std::to_string(sizeof(peft::PluginDescriptor));
  const Case cases[] = {
      {"no_entry",
       "not a peft plugin: does not export 'peft_plugin_descriptor' (read from the file; none of its code ran)"},
      {"null_descriptor", "entry point 'peft_plugin_descriptor' returned no descriptor"},
      {"api_version", "incompatible plugin API version (plugin 999, host " + host_api + ")"},
      {"struct_size", "incompatible plugin descriptor size (plugin 24 bytes, host " + host_size + " bytes)"},
      {"torch_version", std::string("plugin built against LibTorch 9.9.9, host uses LibTorch ") + TORCH_VERSION},
      {"compiler", std::string("plugin compiled by msvc-1938, host by ") + PEFT_COMPILER + " (incompatible C++ ABI)"},
      {"bad_kind", "unknown plugin kind 7, expected 1 (method), 2 (backbone) or 3 (task)"},
      {"bad_name", "invalid plugin name 'Bad-Name', expected [a-z][a-z0-9_]* of at most 64 characters"},
      {"registration_throws", "registration threw: fixture registration failed on purpose"},
      {"misregistered", "plugin declares method 'fixture_method' but registered method 'other_name'"},
  };
  for (const auto& c : cases) {
    CATCH_DYNAMIC_SECTION(c.fixture) {
      const PluginRecord record = load_single(c.fixture);
      CATCH_CHECK_FALSE(record.loaded());
      CATCH_CHECK(record.reason == c.reason);
      CATCH_CHECK(record.reason.find('\n') == std::string::npos);
    }
  }
}

CATCH_TEST_CASE("a file that is not a shared library is rejected; other file types are ignored") {
  TempFolder folder;
  peft::test::write_text(folder / "libnotes.so", "these are notes, not ELF\n");
  peft::test::write_text(folder / "README.txt", "plugins go here\n");
  fs::create_directories(folder / "subfolder.so");
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{folder.path(), false}});
  CATCH_REQUIRE(records.size() == 1);
  CATCH_CHECK(records[0].path == folder / "libnotes.so");
  CATCH_CHECK_FALSE(records[0].loaded());
  CATCH_CHECK(records[0].reason == "not a peft plugin: not an ELF file (read from the file; none of its code ran)");
}

CATCH_TEST_CASE("a shared library that exports no descriptor is rejected before any of its code runs") {
  TempFolder folder;
  add_fixture(folder.path(), "no_entry");
  const fs::path mark = folder / "constructor_ran";
  ::setenv("PEFT_FIXTURE_CONSTRUCTOR_MARK", mark.c_str(), 1);
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{folder.path(), false}});
  ::unsetenv("PEFT_FIXTURE_CONSTRUCTOR_MARK");
  CATCH_REQUIRE(records.size() == 1);
  CATCH_CHECK_FALSE(records[0].loaded());
  CATCH_CHECK_FALSE(fs::exists(mark));  // dlopen would have run the constructor
  CATCH_CHECK_FALSE(is_mapped(records[0].path));

  // A truncated copy (the ELF header only) is refused from its headers, not by the dynamic loader.
  const fs::path cut = folder / "libcut.so";
  std::ifstream in(records[0].path, std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), 64);
  peft::test::write_text(cut, head);
  const auto problem = peft::elf_export_problem(cut, "peft_plugin_descriptor");
  CATCH_REQUIRE(problem.has_value());
  CATCH_CHECK(*problem == "its section headers lie past the end of the file");
}

CATCH_TEST_CASE("a duplicate name is refused naming both paths, and the first plugin stays") {
  TempFolder first;
  TempFolder second;
  const fs::path a = add_fixture(first.path(), "method");
  const fs::path b = add_fixture(second.path(), "method");
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{first.path(), false}, {second.path(), false}});
  CATCH_REQUIRE(records.size() == 2);
  CATCH_CHECK(records[0].loaded());
  CATCH_CHECK_FALSE(records[1].loaded());
  CATCH_CHECK(records[1].reason ==
              "[registry] duplicate method 'fixture_method' in " + a.string() + " and " + b.string());
  CATCH_CHECK(registry.methods().at("fixture_method").origin == a.string());
}

CATCH_TEST_CASE("good plugins still load next to rejected ones") {
  TempFolder folder;
  for (const char* fixture : {"api_version", "method", "no_entry", "registration_throws", "backbone"}) {
    add_fixture(folder.path(), fixture);
  }
  peft::Registry registry;
  const auto records = peft::load_plugins(registry, {{folder.path(), false}});
  CATCH_REQUIRE(records.size() == 5);
  std::size_t loaded = 0;
  for (const auto& record : records) loaded += record.loaded() ? 1 : 0;
  CATCH_CHECK(loaded == 2);
  CATCH_CHECK(registry.methods().entries().size() == 1);
  CATCH_CHECK(registry.backbones().entries().size() == 1);
  CATCH_CHECK_THROWS_WITH(
      peft::require_no_rejections(records),
      Catch::StartsWith("[loader] plugin rejected (--strict): " + (folder / "libfixture_api_version.so").string()) &&
          Catch::EndsWith("(and 2 more; see 'peft list')"));
}

CATCH_TEST_CASE("an exception from a plugin's factory becomes a peft::Error naming the plugin") {
  TempFolder folder;
  const fs::path library = add_fixture(folder.path(), "factory_throws");
  peft::Registry registry;
  peft::load_plugins(registry, {{folder.path(), false}});
  CATCH_CHECK_THROWS_AS(registry.methods().at("fixture_factory_throws").create({}), peft::Error);
  CATCH_CHECK_THROWS_WITH(registry.methods().at("fixture_factory_throws").create({}),
                          "[plugin] method 'fixture_factory_throws' from " + library.string() +
                              " failed to construct: fixture factory failed on purpose");
}

CATCH_TEST_CASE("plugin folders that cannot be read are reported; a missing built-in folder is not") {
  TempFolder folder;
  peft::Registry registry;

  CATCH_SECTION("a folder that does not exist") {
    const auto records = peft::load_plugins(registry, {{folder / "missing", false}, {folder / "builtin", true}});
    CATCH_REQUIRE(records.size() == 1);
    CATCH_CHECK(records[0].kind == "folder");
    CATCH_CHECK(records[0].path == folder / "missing");
    CATCH_CHECK(records[0].reason == "plugin folder does not exist");
  }
  CATCH_SECTION("a file where a folder should be") {
    peft::test::write_text(folder / "file", "x");
    const auto records = peft::load_plugins(registry, {{folder / "file", false}});
    CATCH_REQUIRE(records.size() == 1);
    CATCH_CHECK(records[0].reason == "plugin folder is not a folder");
  }
  CATCH_SECTION("a symlink loop, unreadable even for root") {
    fs::create_directory_symlink(folder / "b", folder / "a");
    fs::create_directory_symlink(folder / "a", folder / "b");
    const auto records = peft::load_plugins(registry, {{folder / "a", false}});
    CATCH_REQUIRE(records.size() == 1);
    CATCH_CHECK(records[0].reason == "cannot read plugin folder: Too many levels of symbolic links");
  }
  CATCH_SECTION("a folder without read permission, even when the tests run as root") {
    // Under the system temp folder, which the unprivileged user can traverse (the build tree may not be).
    TempFolder open_to_all(fs::temp_directory_path());
    add_fixture(open_to_all / "locked", "method");
    fs::permissions(open_to_all / "locked", fs::perms::none);
    const std::string reason = peft::test::run_unprivileged([&] {
      peft::Registry unprivileged_registry;
      const auto records = peft::load_plugins(unprivileged_registry, {{open_to_all / "locked", false}});
      return records.size() == 1 ? records[0].reason : "expected one record, got " + std::to_string(records.size());
    });
    CATCH_CHECK(reason == "cannot read plugin folder: Permission denied");
  }
}
