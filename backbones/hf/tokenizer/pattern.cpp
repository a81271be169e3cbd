#include "pattern.h"

#include <nlohmann/json.hpp>

#include "json_fields.h"

namespace peft::hf {

Pattern::Pattern(const nlohmann::json& json, const std::string& where) {
  if (json.is_object() && json.contains("String")) {
    literal_ = string_field(json, "String", where);
  } else if (json.is_object() && json.contains("Regex")) {
    regex_ = std::make_unique<Regex>(string_field(json, "Regex", where), where);
  } else {
    throw Error("tokenizer", where + ": expected {\"String\": ...} or {\"Regex\": ...}, got " + json.dump());
  }
}

Matches Pattern::find(std::string_view text) const {
  return regex_ ? regex_->find_all(text) : find_literal(text, literal_);
}

std::string Pattern::replace(std::string_view text, std::string_view content) const {
  std::string out;
  std::size_t previous = 0;
  for (const auto& [start, end] : find(text)) {
    out.append(text.substr(previous, start - previous));
    out.append(content);
    previous = end;
  }
  out.append(text.substr(previous));
  return out;
}

}  // namespace peft::hf
