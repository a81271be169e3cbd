#pragma once
/// \file
/// Hugging Face peft's LoraConfig as its `adapter_config.json` files hold it, for the LoRA plugin's adapter files
/// and `peft export`'s.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"

namespace peft {

struct LoraConfig {
  std::int64_t r = 8;
  double lora_alpha = 8.0;
  double lora_dropout = 0.0;
  bool use_rslora = false;
  /// Full module names (`model.layers.0.self_attn.q_proj`), which peft matches exactly.
  std::vector<std::string> target_modules;
  /// DoRA (the adapter also holds `lora_magnitude_vector` [out] per module).
  bool use_dora = false;
  /// peft's rank_pattern and alpha_pattern: a module (its whole name, or a run of its trailing segments) → the rank
  /// or lora_alpha it has instead of r or lora_alpha, the first that matches winning; written as JSON objects.
  std::vector<std::pair<std::string, std::int64_t>> rank_pattern;
  std::vector<std::pair<std::string, double>> alpha_pattern;
};

/// The JSON object of `config` with every key a LoraConfig file carries (`peft_type` "LORA", `bias` "none",
/// `fan_in_fan_out` false, ...). `task_type`, `base_model_name_or_path` and `modules_to_save` are null: the host
/// fills them in from the run.
PEFT_API std::string lora_config_json(const LoraConfig& config);

}  // namespace peft
