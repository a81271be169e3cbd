#pragma once
/// \file
/// A JSON object built key by key, for the small documents a plugin writes (its `adapter_config_json`), so that no
/// plugin escapes strings or formats numbers by hand:
///
///     return peft::JsonObject().add("rank", options_.rank).add("targets", site_names_).text();
///
/// Keys keep the order they were added in; adding a key again replaces its value in place.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"
#include "peft/options.h"

namespace peft {

class PEFT_API JsonObject {
 public:
  /// A recipe value: true, 8, 0.5, "paca", [1, 2], [0.5], ["q_proj", "v_proj"].
  JsonObject& add(const std::string& key, const OptionValue& value);
  // Each scalar type of its own: without them 0.5 and true would convert to `int` before they reached OptionValue.
  JsonObject& add(const std::string& key, bool value);
  JsonObject& add(const std::string& key, int value);
  JsonObject& add(const std::string& key, std::int64_t value);
  JsonObject& add(const std::string& key, double value);
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value);
  JsonObject& add(const std::string& key, const JsonObject& value);
  JsonObject& add(const std::string& key, const std::vector<JsonObject>& values);
  JsonObject& add_null(const std::string& key);
  /// Every option of `options` under its recipe key, in key order.
  JsonObject& add_options(const Options& options);

  bool contains(const std::string& key) const;
  /// The object's text; `indent` >= 0 spreads it over lines.
  std::string text(int indent = -1) const;

 private:
  JsonObject& set(const std::string& key, std::string encoded);
  /// Each key with its value, already encoded as JSON text.
  std::vector<std::pair<std::string, std::string>> members_;
};

}  // namespace peft
