#pragma once

#include <filesystem>
#include <vector>

#include "peft/registry.h"
#include "plugin_record.h"
#include "plugin_search_path.h"

namespace peft {

/// Loads plugin libraries into a registry and records what happened to each.
///
/// Nothing a plugin file contains can take the process down short of a crash in its own code: every check on
/// the descriptor runs before any plugin function but the entry point, and exceptions from registration are
/// caught here. Loaded libraries are never unloaded (RTLD_NODELETE), and every object a plugin's factory makes
/// also holds its library.
class PluginLoader {
 public:
  explicit PluginLoader(Registry& registry) : registry_(registry) {}

  /// Loads every `*.so` file of `folder` (not recursing), in name order; other files are ignored.
  void load_folder(const PluginFolder& folder);

  /// Loads one plugin library.
  void load_file(const std::filesystem::path& file);

  /// One record per plugin file tried and per folder that could not be read, in the order they were tried.
  const std::vector<PluginRecord>& records() const { return records_; }

 private:
  Registry& registry_;
  std::vector<PluginRecord> records_;
};

/// Loads every plugin of `folders` (see plugin_search_path()) into `registry`.
std::vector<PluginRecord> load_plugins(Registry& registry, const std::vector<PluginFolder>& folders);

/// Everything discovered for one command: the registry and what happened at each path.
struct PluginSet {
  Registry registry;
  std::vector<PluginFolder> folders;
  std::vector<PluginRecord> records;
};

/// Searches plugin_search_path(extra_folders) and loads what it finds; with `strict`, any rejection throws
/// (see require_no_rejections()).
PluginSet discover_plugins(const std::vector<std::filesystem::path>& extra_folders, bool strict);

/// Throws peft::Error naming the first rejected record (and how many more there are); for `--strict`.
void require_no_rejections(const std::vector<PluginRecord>& records);

}  // namespace peft
