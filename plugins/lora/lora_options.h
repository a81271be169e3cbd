#pragma once

#include <peft/options.h>

#include <cstdint>
#include <vector>

namespace peft::lora {

/// LoRA's recipe options (`[method.options]`), as Hugging Face peft's LoraConfig names them.
struct LoraOptions {
  /// Rank of the update B A (default 8).
  std::int64_t r = 8;
  /// The update is scaled by alpha / r (default 8), or alpha / √r with rslora.
  double lora_alpha = 8.0;
  /// Dropout on the LoRA branch's input in training (default 0).
  double lora_dropout = 0.0;
  /// Rank-stabilised scaling alpha / √r (default false).
  bool use_rslora = false;

  double scale() const;
};

const std::vector<OptionSpec>& lora_option_specs();

/// Reads and checks resolved options; a rank below 1 or a dropout outside [0, 1) is a peft::Error naming the key.
LoraOptions lora_options_from(const Options& options);

}  // namespace peft::lora
