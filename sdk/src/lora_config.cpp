#include "peft/lora_config.h"

#include <nlohmann/json.hpp>

namespace peft {

namespace {

// A pattern list as the JSON object peft writes (keys in the list's order).
template <class Value>
nlohmann::ordered_json pattern_object(const std::vector<std::pair<std::string, Value>>& patterns) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [pattern, value] : patterns) object[pattern] = value;
  return object;
}

}  // namespace

std::string lora_config_json(const LoraConfig& config) {
  // In the order peft's own files list them.
  const nlohmann::ordered_json json{{"peft_type", "LORA"},
                                    {"task_type", nullptr},
                                    {"r", config.r},
                                    {"lora_alpha", config.lora_alpha},
                                    {"lora_dropout", config.lora_dropout},
                                    {"use_rslora", config.use_rslora},
                                    {"target_modules", config.target_modules},
                                    {"bias", "none"},
                                    {"fan_in_fan_out", false},
                                    {"init_lora_weights", true},
                                    {"inference_mode", true},
                                    {"modules_to_save", nullptr},
                                    {"layers_to_transform", nullptr},
                                    {"layers_pattern", nullptr},
                                    {"rank_pattern", pattern_object(config.rank_pattern)},
                                    {"alpha_pattern", pattern_object(config.alpha_pattern)},
                                    {"use_dora", config.use_dora},
                                    {"base_model_name_or_path", nullptr},
                                    {"revision", nullptr}};
  return json.dump();
}

}  // namespace peft
