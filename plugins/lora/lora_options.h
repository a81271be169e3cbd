#pragma once

#include <peft/option_table.h>

#include <cstdint>

namespace peft::lora {

/// LoRA's recipe options (`[method.options]`), named as Hugging Face peft's LoraConfig names them.
struct LoraOptions {
  /// Rank of the update B A (default 8).
  std::int64_t r = 8;
  /// The update is scaled by lora_alpha / r (default 8), or lora_alpha / √r with use_rslora.
  double lora_alpha = 8.0;
  /// Dropout on the LoRA branch's input in training (default 0).
  double lora_dropout = 0.0;
  /// Rank-stabilised scaling lora_alpha / √r (default false).
  bool use_rslora = false;
  /// DoRA: a trained magnitude per output row over the normalised W + s·B A (default false; the `dora` plugin).
  bool use_dora = false;

  double scale() const;
};

/// The recipe keys of LoraOptions, each declared once.
const OptionTable<LoraOptions>& lora_option_table();
/// The `dora` plugin's keys: LoRA's without use_dora, which it always sets.
const OptionTable<LoraOptions>& dora_option_table();

}  // namespace peft::lora
