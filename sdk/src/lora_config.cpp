#include "peft/lora_config.h"

#include <nlohmann/json.hpp>

namespace peft {

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
                                    {"rank_pattern", nlohmann::ordered_json::object()},
                                    {"alpha_pattern", nlohmann::ordered_json::object()},
                                    {"use_dora", config.use_dora},
                                    {"base_model_name_or_path", nullptr},
                                    {"revision", nullptr}};
  return json.dump();
}

}  // namespace peft
