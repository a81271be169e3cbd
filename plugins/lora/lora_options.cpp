#include "lora_options.h"

#include <peft/strings.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

namespace peft::lora {
namespace {

// `entry` ("MODULE=VALUE", cut at its last '=') as MODULE and VALUE's text; false when either is empty.
bool split_entry(const std::string& entry, std::string& module, std::string& value) {
  const auto equals = entry.rfind('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) return false;
  module = entry.substr(0, equals);
  value = entry.substr(equals + 1);
  return true;
}

// VALUE as a whole integer >= 1 (a rank) or a finite number (an alpha); false when it is not one.
bool parse_rank(const std::string& text, std::int64_t& rank) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < 1) return false;
  rank = value;
  return true;
}

bool parse_alpha(const std::string& text, double& alpha) {
  char* end = nullptr;
  alpha = std::strtod(text.c_str(), &end);
  return *end == '\0' && std::isfinite(alpha);
}

// `entry` as (MODULE, VALUE), or nothing when it is not MODULE=VALUE with a VALUE `parse` accepts.
template <class Value, class Parse>
std::optional<std::pair<std::string, Value>> parse_entry(const std::string& entry, Parse parse) {
  std::string module;
  std::string text;
  Value value{};
  if (!split_entry(entry, module, text) || !parse(text, value)) return std::nullopt;
  return std::make_pair(module, value);
}

template <class Value, class Parse>
std::vector<std::pair<std::string, Value>> parsed(const std::vector<std::string>& entries, Parse parse) {
  std::vector<std::pair<std::string, Value>> patterns;
  for (const auto& entry : entries) {
    if (auto pattern = parse_entry<Value>(entry, parse)) patterns.push_back(std::move(*pattern));
  }
  return patterns;
}

// Every entry of `key` is MODULE=VALUE with a good VALUE, and no MODULE comes twice.
template <class Value, class Parse>
void check_entries(const std::vector<std::string>& entries, const std::string& key, const std::string& expected,
                   Parse parse, const Options& options) {
  std::set<std::string> modules;
  for (const auto& entry : entries) {
    const auto pattern = parse_entry<Value>(entry, parse);
    if (!pattern) {
      throw Error("lora", options.context_of(key) + ": " + key + " entry '" + entry + "', expected " + expected);
    }
    if (!modules.insert(pattern->first).second) {
      throw Error("lora", options.context_of(key) + ": " + key + " names '" + pattern->first + "' twice");
    }
  }
}

void check_patterns(const LoraOptions& lora, const Options& options) {
  check_entries<std::int64_t>(lora.rank_pattern, "rank_pattern", "MODULE=RANK with RANK an integer >= 1", parse_rank,
                              options);
  check_entries<double>(lora.alpha_pattern, "alpha_pattern", "MODULE=ALPHA with ALPHA a finite number", parse_alpha,
                        options);
}

// The value of the first pattern that names `site`, else `fallback`.
template <class Value>
Value first_match(const std::vector<std::pair<std::string, Value>>& patterns, const std::string& site, Value fallback) {
  for (const auto& [module, value] : patterns) {
    if (names_module(site, module)) return value;
  }
  return fallback;
}

OptionTable<LoraOptions> shared_keys() {
  return OptionTable<LoraOptions>()
      .add("r", &LoraOptions::r, "rank of the update B A")
      .at_least(1)
      .add("lora_alpha", &LoraOptions::lora_alpha, "scale numerator: the update is lora_alpha / r * B A")
      .add("lora_dropout", &LoraOptions::lora_dropout, "dropout on the LoRA branch's input")
      .in_range(0.0, 1.0)
      .add("use_rslora", &LoraOptions::use_rslora, "scale by lora_alpha / sqrt(r) instead of lora_alpha / r")
      .add("rank_pattern", &LoraOptions::rank_pattern,
           "MODULE=RANK entries: the sites MODULE names (a name or its trailing segments) have that rank")
      .add("alpha_pattern", &LoraOptions::alpha_pattern,
           "MODULE=ALPHA entries: the sites MODULE names have that lora_alpha")
      .check(check_patterns);
}

}  // namespace

std::vector<std::pair<std::string, std::int64_t>> LoraOptions::ranks() const {
  return parsed<std::int64_t>(rank_pattern, parse_rank);
}

std::vector<std::pair<std::string, double>> LoraOptions::alphas() const {
  return parsed<double>(alpha_pattern, parse_alpha);
}

std::int64_t LoraOptions::rank_of(const std::string& site) const { return first_match(ranks(), site, r); }

double LoraOptions::alpha_of(const std::string& site) const { return first_match(alphas(), site, lora_alpha); }

double LoraOptions::scale_of(const std::string& site) const {
  const auto rank = static_cast<double>(rank_of(site));
  return use_rslora ? alpha_of(site) / std::sqrt(rank) : alpha_of(site) / rank;
}

const OptionTable<LoraOptions>& lora_option_table() {
  static const auto table = shared_keys().add(
      "use_dora", &LoraOptions::use_dora,
      "DoRA: a trained magnitude per output row times the row-normalised W + s B A (as the dora plugin)");
  return table;
}

const OptionTable<LoraOptions>& dora_option_table() {
  static const auto table = shared_keys();
  return table;
}

}  // namespace peft::lora
