#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peft/options.h"

namespace peft {

/// A `[backbone]` or `[method]` table: which plugin, and the plugin's own options with where each was written.
struct PluginSection {
  std::string plugin;
  std::map<std::string, OptionValue> options;
  /// "recipe.toml:14 [backbone]" for each option key, for messages.
  std::map<std::string, std::string> option_contexts;
  /// "recipe.toml [backbone]", for messages about the table as a whole.
  std::string context;
};

struct BackboneSection : PluginSection {
  /// Resolved against the recipe's folder.
  std::optional<std::filesystem::path> checkpoint;
};

struct MethodSection : PluginSection {
  std::vector<std::string> targets;
  std::vector<std::string> exclude;
};

/// A TOML recipe (`schema_version = 1`). This reads the model part — `[backbone]` and `[method]` — strictly; the
/// `[data]`, `[train]`, `[output]` and `[sweep]` tables are kept for the commands that use them.
struct Recipe {
  std::filesystem::path file;
  std::string name;
  BackboneSection backbone;
  std::optional<MethodSection> method;
};

/// Parses `file`. A TOML syntax error, a missing or unknown key, or a value of the wrong type is a peft::Error
/// naming the file, line and key.
Recipe load_recipe(const std::filesystem::path& file);

}  // namespace peft
