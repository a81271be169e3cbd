#include "plugin_search_path.h"

#include <catch2/catch.hpp>
#include <cstdlib>

namespace fs = std::filesystem;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
};

}  // namespace

CATCH_TEST_CASE("PEFT_PLUGIN_PATH splits on colons and skips empty entries") {
  const auto folders = peft::split_plugin_path("/a::/b/c:");
  CATCH_REQUIRE(folders.size() == 2);
  CATCH_CHECK(folders[0] == fs::path("/a"));
  CATCH_CHECK(folders[1] == fs::path("/b/c"));
  CATCH_CHECK(peft::split_plugin_path("").empty());
}

CATCH_TEST_CASE("the search path is built-in folder, then PEFT_PLUGIN_PATH, then --plugin-path, without repeats") {
  ScopedEnv env("PEFT_PLUGIN_PATH", "/env/one:/env/two/:/env/one");
  const auto folders = peft::plugin_search_path({"/flag", "/env/two"});
  CATCH_REQUIRE(folders.size() == 4);
  CATCH_CHECK(folders[0].path == peft::builtin_plugin_folder());
  CATCH_CHECK(folders[0].optional);
  CATCH_CHECK(folders[1].path == fs::path("/env/one"));
  CATCH_CHECK_FALSE(folders[1].optional);
  CATCH_CHECK(folders[2].path == fs::path("/env/two/"));
  CATCH_CHECK(folders[3].path == fs::path("/flag"));
}

CATCH_TEST_CASE("the built-in plugin folder is lib/peft/plugins beside the executable's bin folder") {
  const fs::path folder = peft::builtin_plugin_folder();
  CATCH_CHECK(folder.filename() == "plugins");
  CATCH_CHECK(folder.parent_path().filename() == "peft");
  CATCH_CHECK(folder.parent_path().parent_path().filename() == "lib");
}
