#include "lora_options.h"

#include <cmath>

namespace peft::lora {

double LoraOptions::scale() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r)) : lora_alpha / static_cast<double>(r);
}

const std::vector<OptionSpec>& lora_option_specs() {
  using T = OptionType;
  static const std::vector<OptionSpec> specs{
      {"r", T::integer, std::int64_t{8}, "rank of the update B A"},
      {"lora_alpha", T::number, 8.0, "scale numerator: the update is lora_alpha / r * B A"},
      {"lora_dropout", T::number, 0.0, "dropout on the LoRA branch's input in training, in [0, 1)"},
      {"use_rslora", T::boolean, false, "scale by lora_alpha / sqrt(r) instead of lora_alpha / r"},
  };
  return specs;
}

LoraOptions lora_options_from(const Options& options) {
  LoraOptions lora;
  lora.r = options.integer_at_least("r", 1);
  lora.lora_alpha = options.get<double>("lora_alpha");
  lora.lora_dropout = options.number_in("lora_dropout", 0.0, 1.0);
  lora.use_rslora = options.get<bool>("use_rslora");
  return lora;
}

}  // namespace peft::lora
