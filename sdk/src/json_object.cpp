#include "peft/json_object.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace peft {

JsonObject& JsonObject::set(const std::string& key, std::string encoded) {
  const auto found = std::find_if(members_.begin(), members_.end(), [&](const auto& m) { return m.first == key; });
  if (found != members_.end()) {
    found->second = std::move(encoded);
  } else {
    members_.emplace_back(key, std::move(encoded));
  }
  return *this;
}

JsonObject& JsonObject::add(const std::string& key, const OptionValue& value) {
  return set(key, std::visit([](const auto& v) { return nlohmann::json(v).dump(); }, value));
}

JsonObject& JsonObject::add(const std::string& key, const char* value) {
  return set(key, nlohmann::json(std::string(value)).dump());
}

JsonObject& JsonObject::add(const std::string& key, bool value) { return set(key, nlohmann::json(value).dump()); }
JsonObject& JsonObject::add(const std::string& key, int value) { return set(key, nlohmann::json(value).dump()); }
JsonObject& JsonObject::add(const std::string& key, std::int64_t value) {
  return set(key, nlohmann::json(value).dump());
}
JsonObject& JsonObject::add(const std::string& key, double value) { return set(key, nlohmann::json(value).dump()); }
JsonObject& JsonObject::add(const std::string& key, const std::string& value) {
  return set(key, nlohmann::json(value).dump());
}

JsonObject& JsonObject::add(const std::string& key, const JsonObject& value) { return set(key, value.text()); }

JsonObject& JsonObject::add(const std::string& key, const std::vector<JsonObject>& values) {
  std::string encoded = "[";
  for (std::size_t i = 0; i < values.size(); ++i) encoded += (i ? "," : "") + values[i].text();
  return set(key, encoded + "]");
}

JsonObject& JsonObject::add_null(const std::string& key) { return set(key, "null"); }

JsonObject& JsonObject::add_options(const Options& options) {
  for (const auto& [key, value] : options.values()) add(key, value);
  return *this;
}

bool JsonObject::contains(const std::string& key) const {
  return std::any_of(members_.begin(), members_.end(), [&](const auto& m) { return m.first == key; });
}

std::string JsonObject::text(int indent) const {
  std::string compact = "{";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    compact += (i ? "," : "") + nlohmann::json(members_[i].first).dump() + ":" + members_[i].second;
  }
  compact += "}";
  if (indent < 0) return compact;
  return nlohmann::ordered_json::parse(compact).dump(indent);
}

}  // namespace peft
