#include "hf_targets.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {
namespace {

// A Python regular expression that must match a whole name, as SitePattern's `re:` form.
SitePattern python_regex(const std::string& pattern) { return SitePattern::parse("re:" + pattern); }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> string_list(const nlohmann::json& value, const std::string& where) {
  std::vector<std::string> names;
  for (const auto& item : value) {
    if (!item.is_string()) throw Error("adapter", where + ": expected a list of module names (strings)");
    names.push_back(item.get<std::string>());
  }
  return names;
}

// The expressions peft reads a module's layer index with: the first all-digit segment after `.<segment>.`
// (default), or after `<layers_pattern>.`, followed by another segment. Each is compiled once.
std::vector<std::regex> layer_expressions(const std::vector<std::string>& layers_patterns, const std::string& file) {
  if (layers_patterns.empty()) return {std::regex(R"(.*?\.[^.]*\.(\d+)\.)")};
  std::vector<std::regex> expressions;
  for (const auto& pattern : layers_patterns) {
    try {
      expressions.emplace_back(R"((?:^|.*?\.))" + pattern + R"(\.(\d+)\.)");
    } catch (const std::regex_error&) {
      throw Error("adapter", file + ": layers_pattern \"" + pattern + "\" is not a regular expression");
    }
  }
  return expressions;
}

// The layer index of `module` by the first of `expressions` that reads one, or nothing.
std::optional<long long> layer_index(const std::string& module, const std::vector<std::regex>& expressions) {
  for (const auto& expression : expressions) {
    std::smatch match;
    if (std::regex_search(module, match, expression, std::regex_constants::match_continuous)) {
      return std::stoll(match[1].str());
    }
  }
  return std::nullopt;
}

}  // namespace

HfTargets::Rule HfTargets::rule_of(const nlohmann::json& value, const std::string& where, bool all_linear_allowed) {
  if (value.is_null()) return std::monostate{};
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (all_linear_allowed && lower == "all-linear") return AllLinear{};
    try {
      return python_regex(text);
    } catch (const Error& e) {
      throw Error("adapter", where + " = \"" + text + "\": not a regular expression peft can match (" + e.what() + ")");
    }
  }
  if (value.is_array()) return Names{string_list(value, where)};
  throw Error("adapter", where + ": expected a list of module names, a regular expression or null");
}

HfTargets HfTargets::from_config(const nlohmann::json& config, const std::string& file) {
  HfTargets targets;
  const auto value = [&](const char* key) { return config.contains(key) ? config[key] : nlohmann::json(); };
  targets.targets_ = rule_of(value("target_modules"), file + ": target_modules", true);
  if (std::holds_alternative<std::monostate>(targets.targets_)) {
    throw Error("adapter", file + ": target_modules is null (peft then chooses by model type; name the modules)");
  }
  targets.excluded_ = rule_of(value("exclude_modules"), file + ": exclude_modules", false);
  const nlohmann::json layers = value("layers_to_transform");
  if (layers.is_number_integer()) targets.layers_.push_back(layers.get<long long>());
  if (layers.is_array()) {
    for (const auto& layer : layers) {
      if (!layer.is_number_integer()) throw Error("adapter", file + ": layers_to_transform: expected integers");
      targets.layers_.push_back(layer.get<long long>());
    }
  } else if (!layers.is_null() && !layers.is_number_integer()) {
    throw Error("adapter", file + ": layers_to_transform: expected an integer, a list of them or null");
  }
  const nlohmann::json pattern = value("layers_pattern");
  std::vector<std::string> layers_patterns;
  if (pattern.is_string() && !pattern.get<std::string>().empty()) layers_patterns = {pattern.get<std::string>()};
  if (pattern.is_array()) layers_patterns = string_list(pattern, file + ": layers_pattern");
  targets.layer_expressions_ = layer_expressions(layers_patterns, file);
  return targets;
}

bool HfTargets::matches(const Rule& rule, const std::string& module) {
  if (const auto* names = std::get_if<Names>(&rule)) {
    return std::any_of(names->names.begin(), names->names.end(),
                       [&](const std::string& name) { return names_module(module, name); });
  }
  if (const auto* pattern = std::get_if<SitePattern>(&rule)) return pattern->matches(module);
  // peft's all-linear: every Linear but the output embedding.
  if (std::holds_alternative<AllLinear>(rule)) return module != "lm_head" && !ends_with(module, ".lm_head");
  return false;
}

bool HfTargets::in_layers(const std::string& module) const {
  if (layers_.empty()) return true;
  const auto index = layer_index(module, layer_expressions_);
  return index && std::find(layers_.begin(), layers_.end(), *index) != layers_.end();
}

bool HfTargets::targets(const std::string& module) const {
  if (matches(excluded_, module)) return false;
  if (!matches(targets_, module)) return false;
  // layers_to_transform narrows a list of names only, as in peft.
  return !std::holds_alternative<Names>(targets_) || in_layers(module);
}

std::optional<std::string> hf_pattern_key(const std::vector<std::string>& keys, const std::string& module,
                                          const std::string& where) {
  for (const auto& key : keys) {
    std::optional<SitePattern> pattern;
    try {
      pattern = python_regex(R"((.*\.)?()" + key + ")");
    } catch (const Error& e) {
      throw Error("adapter",
                  where + " key \"" + key + "\": not a regular expression peft can match (" + e.what() + ")");
    }
    if (pattern->matches(module)) return key;
  }
  return std::nullopt;
}

HfFeedforward HfFeedforward::from_config(const nlohmann::json& config, const std::string& file) {
  HfFeedforward feedforward;
  const nlohmann::json value = config.contains("feedforward_modules") ? config["feedforward_modules"] : nullptr;
  const std::string where = file + ": feedforward_modules";
  if (value.is_string()) {
    try {
      feedforward.pattern_ = python_regex(value.get<std::string>());
    } catch (const Error& e) {
      throw Error("adapter", where + ": not a regular expression peft can match (" + e.what() + ")");
    }
  } else if (value.is_array()) {
    feedforward.suffixes_ = string_list(value, where);
  } else if (!value.is_null()) {
    throw Error("adapter", where + ": expected a list of module names, a regular expression or null");
  }
  return feedforward;
}

bool HfFeedforward::contains(const std::string& module) const {
  if (pattern_) return pattern_->matches(module);
  return std::any_of(suffixes_.begin(), suffixes_.end(),
                     [&](const std::string& suffix) { return ends_with(module, suffix); });
}

}  // namespace peft
