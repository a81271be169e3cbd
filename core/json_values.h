#pragma once
// Option values as JSON, for the records a run writes.

#include <nlohmann/json.hpp>

#include "peft/options.h"

namespace peft {

inline nlohmann::json to_json(const OptionValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

}  // namespace peft
