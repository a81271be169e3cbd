#pragma once
// Typed reads of tokenizer.json's fields, each failing with one line that names the field and what was expected.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/error.h"

namespace peft::hf {

[[noreturn]] inline void bad_field(const std::string& where, const std::string& key, const char* expected,
                                   const nlohmann::json& got) {
  throw Error("tokenizer", where + "." + key + ": expected " + expected + ", got " + got.dump().substr(0, 80));
}

inline const nlohmann::json& field(const nlohmann::json& json, const std::string& key, const std::string& where) {
  if (!json.is_object() || !json.contains(key)) throw Error("tokenizer", where + ": missing key '" + key + "'");
  return json.at(key);
}

inline std::string string_field(const nlohmann::json& json, const std::string& key, const std::string& where) {
  const nlohmann::json& value = field(json, key, where);
  if (!value.is_string()) bad_field(where, key, "a string", value);
  return value.get<std::string>();
}

inline std::string string_or(const nlohmann::json& json, const std::string& key, const std::string& fallback,
                             const std::string& where) {
  if (!json.contains(key) || json.at(key).is_null()) return fallback;
  return string_field(json, key, where);
}

inline bool bool_or(const nlohmann::json& json, const std::string& key, bool fallback, const std::string& where) {
  if (!json.contains(key) || json.at(key).is_null()) return fallback;
  const nlohmann::json& value = json.at(key);
  if (!value.is_boolean()) bad_field(where, key, "true or false", value);
  return value.get<bool>();
}

inline std::int64_t integer_field(const nlohmann::json& json, const std::string& key, const std::string& where) {
  const nlohmann::json& value = field(json, key, where);
  if (!value.is_number_integer()) bad_field(where, key, "an integer", value);
  return value.get<std::int64_t>();
}

inline const nlohmann::json& array_field(const nlohmann::json& json, const std::string& key, const std::string& where) {
  const nlohmann::json& value = field(json, key, where);
  if (!value.is_array()) bad_field(where, key, "a list", value);
  return value;
}

/// A Sequence's steps: each element of the list `json[key]` read by `read` (a `*_from_json`), null steps dropped;
/// each named `where.key[i]` in errors.
template <class Part, class Reader>
std::vector<std::unique_ptr<Part>> parts_from_json(const nlohmann::json& json, const std::string& key,
                                                   const std::string& where, Reader read) {
  std::vector<std::unique_ptr<Part>> parts;
  const nlohmann::json& list = array_field(json, key, where);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto part = read(list[i], where + "." + key + "[" + std::to_string(i) + "]")) parts.push_back(std::move(part));
  }
  return parts;
}

/// The component's "type", e.g. "BPE" or "Sequence".
inline std::string type_of(const nlohmann::json& json, const std::string& where) {
  return string_field(json, "type", where);
}

}  // namespace peft::hf
