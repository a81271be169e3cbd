#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace peft {

/// A folder to search for plugins. A missing optional folder is fine (no built-in plugins); a missing folder the
/// user named is reported.
struct PluginFolder {
  std::filesystem::path path;
  bool optional = false;
};

/// The folder of built-in plugins: `lib/peft/plugins` beside the running executable's `bin/` (the build tree and
/// the install prefix have that same layout).
std::filesystem::path builtin_plugin_folder();

/// The folders of a PATH-like list (`:`-separated), in order; empty entries are skipped.
std::vector<std::filesystem::path> split_plugin_path(std::string_view list);

/// Where plugins are searched, in order: the built-in folder, the folders of `PEFT_PLUGIN_PATH`, then `extra`
/// (from --plugin-path). Duplicates (same folder reached twice) are dropped.
std::vector<PluginFolder> plugin_search_path(const std::vector<std::filesystem::path>& extra = {});

}  // namespace peft
