#include "lora_options.h"

#include <cmath>

namespace peft::lora {

double LoraOptions::scale() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r)) : lora_alpha / static_cast<double>(r);
}

namespace {

OptionTable<LoraOptions> shared_keys() {
  return OptionTable<LoraOptions>()
      .add("r", &LoraOptions::r, "rank of the update B A")
      .at_least(1)
      .add("lora_alpha", &LoraOptions::lora_alpha, "scale numerator: the update is lora_alpha / r * B A")
      .add("lora_dropout", &LoraOptions::lora_dropout, "dropout on the LoRA branch's input")
      .in_range(0.0, 1.0)
      .add("use_rslora", &LoraOptions::use_rslora, "scale by lora_alpha / sqrt(r) instead of lora_alpha / r");
}

}  // namespace

const OptionTable<LoraOptions>& lora_option_table() {
  static const auto table = shared_keys().add(
      "use_dora", &LoraOptions::use_dora,
      "DoRA: a trained magnitude per output row times the row-normalised W + s B A (as the dora plugin)");
  return table;
}

const OptionTable<LoraOptions>& dora_option_table() {
  static const auto table = shared_keys();
  return table;
}

}  // namespace peft::lora
