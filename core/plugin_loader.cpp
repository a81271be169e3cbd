#include "plugin_loader.h"

#include <c10/util/Exception.h>
#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>

#include <memory>
#include <stdexcept>
#include <system_error>
#include "elf_exports.h"
#include "log/log.h"

#include "peft/error.h"
#include "peft/plugin.h"
#include "tasks/builtin_tasks.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

using Library = std::shared_ptr<boost::dll::shared_library>;

// Thrown inside this file only: the reason a plugin is refused, which becomes its record's one line.
struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// RTLD_NOW: a missing symbol is an error at load, not a crash later. RTLD_NODELETE: the library stays mapped
// even after its last handle closes, so objects, vtables and autograd nodes made by plugin code never dangle.
constexpr int kLoadFlags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;

Library open_library(const fs::path& file) {
  // Read from the file before dlopen, which would run its constructors: a library that is no plugin never runs.
  if (const auto problem = elf_export_problem(file, PEFT_PLUGIN_ENTRY_SYMBOL)) {
    throw Rejected("not a peft plugin: " + *problem + " (read from the file; none of its code ran)");
  }
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code error;
  dlerror();  // clear any earlier message
  library->load(file, static_cast<boost::dll::load_mode::type>(kLoadFlags), error);
  if (error) {
    const char* message = dlerror();
    throw Rejected(std::string("not a loadable shared library: ") + (message ? message : error.message()));
  }
  return library;
}

const PluginDescriptor& read_descriptor(boost::dll::shared_library& library) {
  if (!library.has(PEFT_PLUGIN_ENTRY_SYMBOL)) {
    throw Rejected("not a peft plugin: symbol '" PEFT_PLUGIN_ENTRY_SYMBOL "' missing");
  }
  const PluginDescriptor* descriptor = nullptr;
  try {
    descriptor = library.get<const PluginDescriptor*()>(PEFT_PLUGIN_ENTRY_SYMBOL)();
  } catch (const std::exception& e) {
    throw Rejected(std::string("entry point '" PEFT_PLUGIN_ENTRY_SYMBOL "' threw: ") + e.what());
  }
  if (descriptor == nullptr) throw Rejected("entry point '" PEFT_PLUGIN_ENTRY_SYMBOL "' returned no descriptor");
  return *descriptor;
}

std::string required_text(const char* value, const char* field) {
  if (value == nullptr || *value == '\0') throw Rejected(std::string("descriptor field '") + field + "' is empty");
  return value;
}

std::string kind_name(PluginKind kind) {
  switch (kind) {
    case PluginKind::method:
      return "method";
    case PluginKind::backbone:
      return "backbone";
    case PluginKind::task:
      return "task";
  }
  throw Rejected("unknown plugin kind " + std::to_string(static_cast<std::uint32_t>(kind)) +
                 ", expected 1 (method), 2 (backbone) or 3 (task)");
}

// Checks the descriptor field by field, in the order the API promises, filling `record` as it goes.
void check_descriptor(const PluginDescriptor& descriptor, PluginRecord& record) {
  record.api_version = descriptor.api_version;
  if (descriptor.api_version != PEFT_API_VERSION) {
    throw Rejected("incompatible plugin API version (plugin " + std::to_string(descriptor.api_version) + ", host " +
                   std::to_string(PEFT_API_VERSION) + ")");
  }
  if (descriptor.struct_size != sizeof(PluginDescriptor)) {
    throw Rejected("incompatible plugin descriptor size (plugin " + std::to_string(descriptor.struct_size) +
                   " bytes, host " + std::to_string(sizeof(PluginDescriptor)) + " bytes)");
  }
  record.name = required_text(descriptor.name, "name");
  record.version = required_text(descriptor.version, "version");
  record.summary = descriptor.summary ? descriptor.summary : "";
  record.build_tag = required_text(descriptor.build_tag, "build_tag");
  try {
    if (auto problem = BuildTag::parse(record.build_tag).incompatibility_with(BuildTag::host())) {
      throw Rejected(*problem);
    }
  } catch (const Error& e) {
    throw Rejected(e.what());
  }
  record.kind = kind_name(descriptor.kind);
  if (!is_valid_plugin_name(record.name)) {
    throw Rejected("invalid plugin name '" + record.name + "', expected [a-z][a-z0-9_]* of at most 64 characters");
  }
  if (descriptor.register_plugin == nullptr) throw Rejected("descriptor field 'register_plugin' is null");
}

Registry register_into_staging(const PluginDescriptor& descriptor) {
  Registry staged;
  try {
    descriptor.register_plugin(staged);
  } catch (const std::exception& e) {
    throw Rejected(std::string("registration threw: ") + e.what());
  } catch (...) {
    throw Rejected("registration threw an exception that is not a std::exception");
  }
  return staged;
}

// The factory the host calls: the plugin's own, with its exceptions turned into peft::Error and its objects
// holding the library.
template <class Interface>
typename RegistryEntry<Interface>::Factory guard_factory(typename RegistryEntry<Interface>::Factory create,
                                                         Library library, const std::string& what) {
  return [create = std::move(create), library = std::move(library),
          what](const Options& options) -> std::shared_ptr<Interface> {
    std::shared_ptr<Interface> object;
    try {
      object = create(options);
    } catch (const Error&) {
      throw;
    } catch (const c10::Error&) {
      throw;  // LibTorch's own type, shared by host and plugin: the host says what it means (built_by_plugin)
    } catch (const std::exception& e) {
      throw Error("plugin", what + " failed to construct: " + e.what());
    } catch (...) {
      throw Error("plugin", what + " failed to construct: an exception that is not a std::exception");
    }
    if (!object) throw Error("plugin", what + " returned no object");
    struct Holder {
      Library library;  // declared first, destroyed last
      std::shared_ptr<Interface> object;
    };
    auto holder = std::make_shared<Holder>(Holder{library, std::move(object)});
    return std::shared_ptr<Interface>(holder, holder->object.get());
  };
}

template <class Interface>
void adopt(RegistryTable<Interface>& staged, RegistryTable<Interface>& target, const Library& library,
           const fs::path& file) {
  for (auto entry : staged.entries()) {
    entry.origin = file.string();
    entry.create = guard_factory<Interface>(std::move(entry.create), library,
                                            target.kind() + " '" + entry.name + "' from " + entry.origin);
    try {
      target.add(std::move(entry));
    } catch (const Error& e) {
      throw Rejected(e.what());
    }
  }
}

std::string describe_registered(const Registry& staged) {
  std::string names;
  const auto append = [&names](const auto& table) {
    for (const auto& entry : table.entries())
      names += (names.empty() ? "" : ", ") + table.kind() + " '" + entry.name + "'";
  };
  append(staged.methods());
  append(staged.backbones());
  append(staged.tasks());
  return names.empty() ? "nothing" : names;
}

void admit(const fs::path& file, Registry& registry, PluginRecord& record) {
  Library library = open_library(file);
  const PluginDescriptor& descriptor = read_descriptor(*library);
  check_descriptor(descriptor, record);

  Registry staged = register_into_staging(descriptor);
  const bool one_entry =
      staged.methods().entries().size() + staged.backbones().entries().size() + staged.tasks().entries().size() == 1;
  const bool declared_found = record.kind == "method"     ? staged.methods().find(record.name) != nullptr
                              : record.kind == "backbone" ? staged.backbones().find(record.name) != nullptr
                                                          : staged.tasks().find(record.name) != nullptr;
  if (!one_entry || !declared_found) {
    throw Rejected("plugin declares " + record.kind + " '" + record.name + "' but registered " +
                   describe_registered(staged));
  }
  adopt(staged.methods(), registry.methods(), library, file);
  adopt(staged.backbones(), registry.backbones(), library, file);
  adopt(staged.tasks(), registry.tasks(), library, file);
}

}  // namespace

void PluginLoader::load_file(const fs::path& file) {
  PluginRecord record;
  record.path = file;
  try {
    admit(file, registry_, record);
    record.status = PluginRecord::Status::loaded;
    log::debug("loaded " + record.kind + " '" + record.name + "' " + record.version + " from " + file.string());
  } catch (const Rejected& rejected) {
    record.reason = rejected.what();
    log::debug("rejected " + file.string() + ": " + record.reason);
  }
  records_.push_back(std::move(record));
}

void PluginLoader::load_folder(const PluginFolder& folder) {
  const auto reject_folder = [&](const std::string& reason) {
    PluginRecord record;
    record.path = folder.path;
    record.kind = "folder";
    record.reason = reason;
    log::debug("rejected plugin folder " + folder.path.string() + ": " + reason);
    records_.push_back(std::move(record));
  };
  log::debug("searching " + folder.path.string() + " for plugins");

  std::error_code error;
  const auto status = fs::status(folder.path, error);
  if (status.type() == fs::file_type::not_found) {
    if (!folder.optional) reject_folder("plugin folder does not exist");
    return;
  }
  if (error) return reject_folder("cannot read plugin folder: " + error.message());
  if (!fs::is_directory(status)) return reject_folder("plugin folder is not a folder");

  const std::string suffix = boost::dll::shared_library::suffix().string();
  std::vector<fs::path> files;
  fs::directory_iterator it(folder.path, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code file_error;
    if (it->path().extension() == suffix && it->is_regular_file(file_error)) {
      files.push_back(it->path());
    } else {
      log::debug("ignoring " + it->path().string() + ": not a " + suffix + " file");
    }
  }
  if (error) return reject_folder("cannot read plugin folder: " + error.message());

  std::sort(files.begin(), files.end());
  for (const auto& file : files) load_file(file);
}

std::vector<PluginRecord> load_plugins(Registry& registry, const std::vector<PluginFolder>& folders) {
  PluginLoader loader(registry);
  for (const auto& folder : folders) loader.load_folder(folder);
  return loader.records();
}

PluginSet discover_plugins(const std::vector<fs::path>& extra_folders, bool strict) {
  PluginSet set;
  register_builtin_tasks(set.registry);
  set.folders = plugin_search_path(extra_folders);
  set.records = load_plugins(set.registry, set.folders);
  if (strict) require_no_rejections(set.records);
  return set;
}

void require_no_rejections(const std::vector<PluginRecord>& records) {
  std::size_t rejected = 0;
  const PluginRecord* first = nullptr;
  for (const auto& record : records) {
    if (record.loaded()) continue;
    if (first == nullptr) first = &record;
    ++rejected;
  }
  if (first == nullptr) return;
  std::string message = "plugin rejected (--strict): " + first->path.string() + ": " + first->reason;
  if (rejected > 1) message += " (and " + std::to_string(rejected - 1) + " more; see 'peft list')";
  throw Error("loader", message);
}

}  // namespace peft
