#include "plugin_search_path.h"

#include "peft/strings.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <system_error>

namespace fs = std::filesystem;

namespace peft {
namespace {

// The same folder written two ways ("/a/b/", "/a/./b", a symlink to it) compares equal.
std::string comparable(const fs::path& folder) {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(folder, error);
  std::string text = (error ? folder : canonical).lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

fs::path builtin_plugin_folder() {
  return boost::dll::program_location().parent_path().parent_path() / "lib" / "peft" / "plugins";
}

std::vector<fs::path> split_plugin_path(std::string_view list) {
  std::vector<fs::path> folders;
  for (const auto& folder : split(list, ':')) {
    if (!folder.empty()) folders.emplace_back(folder);
  }
  return folders;
}

std::vector<PluginFolder> plugin_search_path(const std::vector<fs::path>& extra) {
  std::vector<PluginFolder> candidates{{builtin_plugin_folder(), true}};
  if (const char* env = std::getenv("PEFT_PLUGIN_PATH")) {
    for (auto& folder : split_plugin_path(env)) candidates.push_back({std::move(folder), false});
  }
  for (const auto& folder : extra) candidates.push_back({folder, false});

  std::vector<PluginFolder> folders;
  std::vector<std::string> seen;
  for (const auto& candidate : candidates) {
    const std::string key = comparable(candidate.path);
    bool duplicate = false;
    for (const auto& other : seen) duplicate = duplicate || other == key;
    if (duplicate) continue;
    seen.push_back(key);
    folders.push_back(candidate);
  }
  return folders;
}

}  // namespace peft
