#pragma once
/// \file
/// A plugin's options declared once: an options struct holds the types and defaults (its member initialisers, as
/// LibTorch's `XOptions`), and one OptionTable names each member with its recipe key, meaning and check. The table
/// gives the specs that validate and document the recipe table (`peft list --options`), fills the struct from
/// resolved options, and writes a struct back as recipe values (adapter records):
///
///     struct LoraOptions {
///       /// Rank of the update B A.
///       std::int64_t r = 8;
///       double lora_alpha = 8.0;
///       enum class Init { kaiming, gaussian } init = Init::kaiming;
///     };
///
///     const peft::OptionTable<LoraOptions>& lora_option_table() {
///       static const auto table = peft::OptionTable<LoraOptions>()
///           .add("r", &LoraOptions::r, "rank of the update B A").at_least(1)
///           .add("lora_alpha", &LoraOptions::lora_alpha, "scale numerator: lora_alpha / r")
///           .add_choice("init", &LoraOptions::init, {{"kaiming", LoraOptions::Init::kaiming},
///                                                    {"gaussian", LoraOptions::Init::gaussian}}, "A's init");
///       return table;
///     }
///
/// Number options (and lists of numbers) must be finite: nan and inf are refused with the key named. A member of
/// type `std::optional<T>` has no default: it stays unset unless the recipe gives it.

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "peft/error.h"
#include "peft/options.h"

namespace peft {

namespace detail {

template <class T>
struct OptionTypeOf;
template <>
struct OptionTypeOf<bool> : std::integral_constant<OptionType, OptionType::boolean> {};
template <>
struct OptionTypeOf<std::int64_t> : std::integral_constant<OptionType, OptionType::integer> {};
template <>
struct OptionTypeOf<double> : std::integral_constant<OptionType, OptionType::number> {};
template <>
struct OptionTypeOf<std::string> : std::integral_constant<OptionType, OptionType::string> {};
template <>
struct OptionTypeOf<std::vector<std::int64_t>> : std::integral_constant<OptionType, OptionType::integer_list> {};
template <>
struct OptionTypeOf<std::vector<double>> : std::integral_constant<OptionType, OptionType::number_list> {};
template <>
struct OptionTypeOf<std::vector<std::string>> : std::integral_constant<OptionType, OptionType::string_list> {};

template <class T>
struct Unwrapped {
  using type = T;
  static constexpr bool optional = false;
};
template <class T>
struct Unwrapped<std::optional<T>> {
  using type = T;
  static constexpr bool optional = true;
};

/// Throws when a number (or a list of numbers) is nan or infinite.
PEFT_API void check_finite(const Options& options, const std::string& key, const OptionValue& value);

}  // namespace detail

template <class Struct>
class OptionTable {
 public:
  /// Declares `key` as `member`. Its type comes from the member and its default from a default-made Struct.
  template <class Member>
  OptionTable& add(std::string key, Member Struct::*member, std::string doc) {
    using Value = typename detail::Unwrapped<Member>::type;
    OptionSpec spec{key, detail::OptionTypeOf<Value>::value, std::nullopt, std::move(doc), {}};
    const Struct defaults{};
    if constexpr (detail::Unwrapped<Member>::optional) {
      if (defaults.*member) spec.default_value = OptionValue(*(defaults.*member));
    } else {
      spec.default_value = OptionValue(defaults.*member);
    }
    Entry entry{std::move(spec), {}, {}};
    entry.read = [member, key](Struct& into, const Options& options) {
      if (!options.has(key)) return;
      detail::check_finite(options, key, options.values().at(key));
      into.*member = options.get<Value>(key);
    };
    entry.write = [member](const Struct& from) -> std::optional<OptionValue> {
      if constexpr (detail::Unwrapped<Member>::optional) {
        if (!(from.*member)) return std::nullopt;
        return OptionValue(*(from.*member));
      } else {
        return OptionValue(from.*member);
      }
    };
    entries_.push_back(std::move(entry));
    return *this;
  }

  /// Declares `key` as an enum member chosen by name from `choices`; the default is the member's initialiser.
  template <class Enum>
  OptionTable& add_choice(std::string key, Enum Struct::*member, std::vector<std::pair<std::string, Enum>> choices,
                          std::string doc) {
    static_assert(std::is_enum<Enum>::value, "add_choice is for enum members; use add for the others");
    std::vector<std::string> names;
    std::string default_name;
    const Struct defaults{};
    for (const auto& choice : choices) {
      names.push_back(choice.first);
      if (choice.second == defaults.*member) default_name = choice.first;
    }
    if (default_name.empty()) throw Error("options", "option '" + key + "': the default is not among its choices");
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : " | ") + name;
    Entry entry{OptionSpec{key, OptionType::string, OptionValue(default_name), doc + " (" + list + ")", {}}, {}, {}};
    entry.read = [member, key, choices, names](Struct& into, const Options& options) {
      const std::string chosen = options.one_of(key, names);
      for (const auto& choice : choices) {
        if (choice.first == chosen) into.*member = choice.second;
      }
    };
    entry.write = [member, choices](const Struct& from) -> std::optional<OptionValue> {
      for (const auto& choice : choices) {
        if (choice.second == from.*member) return OptionValue(choice.first);
      }
      return std::nullopt;
    };
    entries_.push_back(std::move(entry));
    return *this;
  }

  /// The last declared integer option must be >= `minimum`.
  OptionTable& at_least(std::int64_t minimum) {
    Entry& entry = last("at_least");
    entry.spec.doc += " (>= " + std::to_string(minimum) + ")";
    const std::string key = entry.spec.name;
    chain(entry, [key, minimum](const Options& options) { options.integer_at_least(key, minimum); });
    return *this;
  }

  /// The last declared number option must lie in [low, high).
  OptionTable& in_range(double low, double high) {
    Entry& entry = last("in_range");
    entry.spec.doc += " (in [" + to_string(OptionValue(low)) + ", " + to_string(OptionValue(high)) + "))";
    const std::string key = entry.spec.name;
    chain(entry, [key, low, high](const Options& options) { options.number_in(key, low, high); });
    return *this;
  }

  /// Another key accepted for the last declared option (timm's `drop_path_rate` for `drop_path`).
  OptionTable& alias(std::string other) {
    last("alias").spec.aliases.push_back(std::move(other));
    return *this;
  }

  /// A rule over the whole struct, run after every option is read (GIFT: heads must divide dim); it throws
  /// peft::Error naming the keys.
  OptionTable& check(std::function<void(const Struct&, const Options&)> rule) {
    rules_.push_back(std::move(rule));
    return *this;
  }

  /// The specs for the registry: keys, types, defaults and meanings in declaration order.
  std::vector<OptionSpec> specs() const {
    std::vector<OptionSpec> specs;
    for (const auto& entry : entries_) specs.push_back(entry.spec);
    return specs;
  }

  /// The struct `options` (resolved against `specs()`) describe; a value out of range is a peft::Error.
  Struct read(const Options& options) const {
    Struct result{};
    for (const auto& entry : entries_) entry.read(result, options);
    for (const auto& rule : rules_) rule(result, options);
    return result;
  }

  /// `options` as recipe values, every set option (records, `adapter_config.json`).
  std::map<std::string, OptionValue> values(const Struct& options) const {
    std::map<std::string, OptionValue> values;
    for (const auto& entry : entries_) {
      if (auto value = entry.write(options)) values.emplace(entry.spec.name, std::move(*value));
    }
    return values;
  }

 private:
  struct Entry {
    OptionSpec spec;
    std::function<void(Struct&, const Options&)> read;
    std::function<std::optional<OptionValue>(const Struct&)> write;
  };

  Entry& last(const char* what) {
    if (entries_.empty()) throw Error("options", std::string(what) + "() must follow an add()");
    return entries_.back();
  }

  static void chain(Entry& entry, std::function<void(const Options&)> check) {
    auto read = std::move(entry.read);
    const std::string key = entry.spec.name;
    entry.read = [read, check, key](Struct& into, const Options& options) {
      if (options.has(key)) check(options);
      read(into, options);
    };
  }

  std::vector<Entry> entries_;
  std::vector<std::function<void(const Struct&, const Options&)>> rules_;
};

}  // namespace peft
