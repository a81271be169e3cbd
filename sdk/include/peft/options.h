#pragma once
/// \file
/// Plugin options: each plugin declares the keys of its recipe table (name, type, default, doc) once, and the
/// same declaration validates recipes and documents the plugin (`peft list --options`, `peft inspect`).
///
///     const std::vector<peft::OptionSpec> kLoraOptions{
///         {"r", peft::OptionType::integer, std::int64_t{8}, "rank of the update"},
///         {"alpha", peft::OptionType::number, 8.0, "scale numerator: the update is alpha / r * B A"},
///     };
///     // in the factory:
///     const std::int64_t rank = options.get<std::int64_t>("r");

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "peft/api.h"
#include "peft/error.h"

namespace peft {

/// A value from a recipe table.
using OptionValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>,
                                 std::vector<double>, std::vector<std::string>>;

/// The type of an option; the index of the matching OptionValue alternative.
enum class OptionType { boolean, integer, number, string, integer_list, number_list, string_list };

/// "integer", "list of numbers", ... for messages.
PEFT_API std::string to_string(OptionType type);

/// A value as a recipe would write it: `true`, `8`, `0.5`, `"paca"`, `[0.5, 0.5, 0.5]`.
PEFT_API std::string to_string(const OptionValue& value);

/// One option a plugin accepts.
struct OptionSpec {
  std::string name;
  OptionType type;
  /// The value when the recipe does not set it; none: the option is unset unless given (Options::has).
  std::optional<OptionValue> default_value;
  /// One line for `peft list --options`.
  std::string doc;
  /// Other keys accepted for this option (timm's `drop_path_rate` for `drop_path`); values land under `name`.
  std::vector<std::string> aliases = {};
};

/// Option values after validation against their specs.
class PEFT_API Options {
 public:
  Options() = default;
  /// `context` names where the values came from in messages, e.g. "recipe.toml [backbone]".
  /// `key_contexts` names where each key was written ("recipe.toml:14 [backbone]", "--set method.options.r"), for
  /// messages about that key; keys without one use `context`.
  Options(std::string context, std::map<std::string, OptionValue> values,
          std::map<std::string, std::string> key_contexts = {})
      : context_(std::move(context)), values_(std::move(values)), key_contexts_(std::move(key_contexts)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }

  /// The value of `name` as T; throws peft::Error naming the context and key when it is unset or of another type.
  template <class T>
  T get(const std::string& name) const {
    const auto found = values_.find(name);
    if (found == values_.end()) throw Error("options", context_ + ": option '" + name + "' is not set");
    if (const T* value = std::get_if<T>(&found->second)) return *value;
    throw Error("options", context_ + ": option '" + name + "' has another type");
  }

  /// The value of `name`, or `fallback` when unset.
  template <class T>
  T get_or(const std::string& name, T fallback) const {
    return has(name) ? get<T>(name) : fallback;
  }

  /// The integer `name`, which must be >= `minimum`; else a peft::Error "<context>: name = v, expected an integer
  /// >= minimum".
  std::int64_t integer_at_least(const std::string& name, std::int64_t minimum) const;
  /// The number `name`, which must lie in [low, high); else a peft::Error naming the range.
  double number_in(const std::string& name, double low, double high) const;
  /// The number `name`, which must be finite; else a peft::Error.
  double finite_number(const std::string& name) const;
  /// The string `name`, which must be one of `allowed`; else a peft::Error listing them.
  std::string one_of(const std::string& name, const std::vector<std::string>& allowed) const;

  const std::string& context() const { return context_; }
  /// Where `name` was written, else the table's context.
  const std::string& context_of(const std::string& name) const;
  const std::map<std::string, OptionValue>& values() const { return values_; }

 private:
  std::string context_;
  std::map<std::string, OptionValue> values_;
  std::map<std::string, std::string> key_contexts_;
};

/// The spec `key` names, as its name or one of its aliases; nullptr when none does.
PEFT_API const OptionSpec* find_option_spec(const std::vector<OptionSpec>& specs, const std::string& key);

/// Checks `given` against `specs`: an unknown key (naming the allowed ones), a value of the wrong type (naming
/// the expected type), or an option given under two of its names is a peft::Error; integers are accepted where
/// numbers are expected; an alias is stored under the option's name; defaults fill the rest.
/// Messages start with `key_contexts[key]` where given (e.g. "recipe.toml:14 [backbone]"), else `context`.
PEFT_API Options resolve_options(const std::vector<OptionSpec>& specs, const std::map<std::string, OptionValue>& given,
                                 const std::string& context,
                                 const std::map<std::string, std::string>& key_contexts = {});

}  // namespace peft
