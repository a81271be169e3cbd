#pragma once
// Which modules a Hugging Face peft config adapts, by peft's own rules (tuners_utils.check_target_module_exists,
// utils.other.get_pattern_key), for checking an adapter folder against the model it is applied to. peft's
// patterns are Python regular expressions; they are matched here as ECMAScript ones by core/selector.h's
// breadth-first matcher (the common syntax means the same; Python-only syntax such as (?P<name>) is refused).

#include <nlohmann/json.hpp>

#include <optional>
#include <regex>
#include <string>
#include <variant>
#include <vector>

#include "selector.h"

namespace peft {

/// A config's target_modules with exclude_modules, layers_to_transform and layers_pattern.
class HfTargets {
 public:
  /// Reads those keys of `config`; a key of the wrong type, or a pattern that is not a regular expression, is a
  /// peft::Error naming `file` and the key.
  static HfTargets from_config(const nlohmann::json& config, const std::string& file);

  /// Whether peft adapts the module named `module`.
  bool targets(const std::string& module) const;

 private:
  // A list (exact names or trailing segments), a regular expression, or peft's "all-linear" shorthand.
  struct Names {
    std::vector<std::string> names;
  };
  struct AllLinear {};
  using Rule = std::variant<std::monostate, Names, SitePattern, AllLinear>;

  static Rule rule_of(const nlohmann::json& value, const std::string& where, bool all_linear_allowed);
  static bool matches(const Rule& rule, const std::string& module);
  bool in_layers(const std::string& module) const;

  Rule targets_;
  Rule excluded_;
  std::vector<long long> layers_;  // empty: every layer
  /// How a module's layer index is read (layers_pattern's, or peft's default).
  std::vector<std::regex> layer_expressions_;
};

/// The first of `keys` (a rank_pattern's or alpha_pattern's, in the file's order) that names `module` as peft's
/// get_pattern_key matches them (`(.*\.)?(KEY)$`), or nothing. `where` names the key for a bad pattern.
std::optional<std::string> hf_pattern_key(const std::vector<std::string>& keys, const std::string& module,
                                          const std::string& where);

/// IA3's feedforward_modules rule (ia3.model._check_target_module_feedforward): a regular expression matching the
/// whole name, or a list whose entries end the name (peft compares plain suffixes here, not segments).
class HfFeedforward {
 public:
  static HfFeedforward from_config(const nlohmann::json& config, const std::string& file);
  bool contains(const std::string& module) const;

 private:
  std::optional<SitePattern> pattern_;
  std::vector<std::string> suffixes_;
};

}  // namespace peft
