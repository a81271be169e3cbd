#include "peft/options.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "peft/option_table.h"
#include "peft/strings.h"

namespace peft {
namespace {

std::string join_names(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs) names.push_back(spec.name);
  return names.empty() ? "(none)" : join(names);
}

// The value converted to `type` where that loses nothing (integers where numbers are expected), or nothing.
std::optional<OptionValue> coerce(const OptionValue& value, OptionType type) {
  if (value.index() == static_cast<std::size_t>(type)) return value;
  if (type == OptionType::number && std::holds_alternative<std::int64_t>(value)) {
    return static_cast<double>(std::get<std::int64_t>(value));
  }
  if (type == OptionType::number_list && std::holds_alternative<std::vector<std::int64_t>>(value)) {
    const auto& integers = std::get<std::vector<std::int64_t>>(value);
    return std::vector<double>(integers.begin(), integers.end());
  }
  // `[]` has no element type to read: it is the empty list of whatever list the option is.
  const bool empty_list = std::visit(
      [](const auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::int64_t>> ||
                      std::is_same_v<std::decay_t<decltype(v)>, std::vector<double>> ||
                      std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::string>>) {
          return v.empty();
        }
        return false;
      },
      value);
  if (empty_list && type == OptionType::integer_list) return std::vector<std::int64_t>{};
  if (empty_list && type == OptionType::number_list) return std::vector<double>{};
  if (empty_list && type == OptionType::string_list) return std::vector<std::string>{};
  return std::nullopt;
}

std::string with_article(OptionType type) {
  const std::string name = to_string(type);
  return (name[0] == 'i' ? "an " : "a ") + name;
}

std::string value_text(bool v) { return v ? "true" : "false"; }
std::string value_text(std::int64_t v) { return std::to_string(v); }
std::string value_text(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
}
std::string value_text(const std::string& v) { return "\"" + v + "\""; }
template <class T>
std::string value_text(const std::vector<T>& values) {
  std::vector<std::string> items;
  for (const auto& item : values) items.push_back(value_text(item));
  return "[" + join(items) + "]";
}

}  // namespace

std::string to_string(OptionType type) {
  switch (type) {
    case OptionType::boolean:
      return "boolean";
    case OptionType::integer:
      return "integer";
    case OptionType::number:
      return "number";
    case OptionType::string:
      return "string";
    case OptionType::integer_list:
      return "list of integers";
    case OptionType::number_list:
      return "list of numbers";
    case OptionType::string_list:
      return "list of strings";
  }
  return "unknown";
}

std::string to_string(const OptionValue& value) {
  return std::visit([](const auto& v) { return value_text(v); }, value);
}

const OptionSpec* find_option_spec(const std::vector<OptionSpec>& specs, const std::string& key) {
  const auto spec = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) {
    return s.name == key || std::find(s.aliases.begin(), s.aliases.end(), key) != s.aliases.end();
  });
  return spec == specs.end() ? nullptr : &*spec;
}

Options resolve_options(const std::vector<OptionSpec>& specs, const std::map<std::string, OptionValue>& given,
                        const std::string& default_context, const std::map<std::string, std::string>& key_contexts) {
  std::map<std::string, OptionValue> values;
  for (const auto& entry : given) {
    const std::string& name = entry.first;  // a plain reference: C++17 lambdas cannot capture structured bindings
    const OptionValue& value = entry.second;
    const auto located = key_contexts.find(name);
    const std::string& context = located == key_contexts.end() ? default_context : located->second;
    const OptionSpec* spec = find_option_spec(specs, name);
    if (spec == nullptr) {
      throw Error("options", context + ": unknown key '" + name + "', expected one of: " + join_names(specs));
    }
    if (values.count(spec->name) != 0) {
      throw Error("options", context + ": key '" + name + "' sets '" + spec->name +
                                 "' a second time (it is another name for it); keep one");
    }
    auto converted = coerce(value, spec->type);
    if (!converted) {
      throw Error("options", context + ": key '" + name + "' must be " + with_article(spec->type) + ", got " +
                                 with_article(static_cast<OptionType>(value.index())));
    }
    values.emplace(spec->name, std::move(*converted));
  }
  for (const auto& spec : specs) {
    if (values.count(spec.name) == 0 && spec.default_value) values.emplace(spec.name, *spec.default_value);
  }
  std::map<std::string, std::string> contexts;
  for (const auto& [key, where] : key_contexts) {
    if (const OptionSpec* spec = find_option_spec(specs, key)) contexts.emplace(spec->name, where);
  }
  return Options(default_context, std::move(values), std::move(contexts));
}

const std::string& Options::context_of(const std::string& name) const {
  const auto found = key_contexts_.find(name);
  return found == key_contexts_.end() ? context_ : found->second;
}

std::int64_t Options::integer_at_least(const std::string& name, std::int64_t minimum) const {
  const auto value = get<std::int64_t>(name);
  if (value < minimum) {
    throw Error("options", context_of(name) + ": " + name + " = " + std::to_string(value) +
                               ", expected an integer >= " + std::to_string(minimum));
  }
  return value;
}

double Options::number_in(const std::string& name, double low, double high) const {
  const auto value = get<double>(name);
  if (!(value >= low && value < high)) {
    throw Error("options", context_of(name) + ": " + name + " = " + to_string(OptionValue(value)) +
                               ", expected a number in [" + to_string(OptionValue(low)) + ", " +
                               to_string(OptionValue(high)) + ")");
  }
  return value;
}

double Options::finite_number(const std::string& name) const {
  const auto value = get<double>(name);
  if (!std::isfinite(value)) {
    throw Error("options",
                context_of(name) + ": " + name + " = " + to_string(OptionValue(value)) + ", expected a finite number");
  }
  return value;
}

namespace detail {

void check_finite(const Options& options, const std::string& key, const OptionValue& value) {
  if (std::holds_alternative<double>(value)) {
    options.finite_number(key);
  } else if (const auto* numbers = std::get_if<std::vector<double>>(&value)) {
    for (const double number : *numbers) {
      if (!std::isfinite(number)) {
        throw Error("options",
                    options.context_of(key) + ": " + key + " = " + to_string(value) + ", expected finite numbers");
      }
    }
  }
}

}  // namespace detail

std::string Options::one_of(const std::string& name, const std::vector<std::string>& allowed) const {
  const auto value = get<std::string>(name);
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (const auto& item : allowed) list += (list.empty() ? "" : ", ") + item;
    throw Error("options", context_of(name) + ": " + name + " = \"" + value + "\", expected one of " + list);
  }
  return value;
}

}  // namespace peft
