#pragma once
// The fields of one config.json object, each read with its check and a one-line error naming the file and the key.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "peft/error.h"

namespace peft::llama {

class ConfigFields {
 public:
  /// `prefix` names nested objects in messages ("rope_parameters.").
  ConfigFields(std::string file, nlohmann::json config, std::string prefix = {})
      : file_(std::move(file)), config_(std::move(config)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw Error("llama", file_ + ": " + prefix_ + field + " " + message);
  }
  /// Present and not null.
  bool has(const std::string& field) const { return config_.contains(field) && !config_[field].is_null(); }
  const nlohmann::json& at(const std::string& field) const { return config_.at(field); }
  const nlohmann::json& object() const { return config_; }
  const std::string& file() const { return file_; }
  ConfigFields nested(const std::string& field) const {
    if (!at(field).is_object()) fail(field, "= " + at(field).dump() + ", expected an object");
    return ConfigFields(file_, at(field), prefix_ + field + ".");
  }

  std::int64_t positive(const std::string& field, std::optional<std::int64_t> fallback = std::nullopt) const {
    if (!has(field)) {
      if (fallback) return *fallback;
      fail(field, "is missing, expected a positive integer");
    }
    if (!at(field).is_number_integer() || at(field).get<std::int64_t>() <= 0) {
      fail(field, "= " + at(field).dump() + ", expected a positive integer");
    }
    return at(field).get<std::int64_t>();
  }
  double number(const std::string& field, std::optional<double> fallback = std::nullopt) const {
    if (!has(field)) {
      if (fallback) return *fallback;
      fail(field,
           config_.contains(field) ? "is null, expected a positive number" : "is missing, expected a positive number");
    }
    if (!at(field).is_number() || !(at(field).get<double>() > 0)) {
      fail(field, "= " + at(field).dump() + ", expected a positive number");
    }
    return at(field).get<double>();
  }
  bool flag(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_boolean()) fail(field, "= " + at(field).dump() + ", expected true or false");
    return at(field).get<bool>();
  }
  std::string text(const std::string& field, const std::string& fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_string()) fail(field, "= " + at(field).dump() + ", expected a string");
    return at(field).get<std::string>();
  }

 private:
  std::string file_;
  nlohmann::json config_;
  std::string prefix_;
};

}  // namespace peft::llama
