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
  lora.r = options.get<std::int64_t>("r");
  lora.lora_alpha = options.get<double>("lora_alpha");
  lora.lora_dropout = options.get<double>("lora_dropout");
  lora.use_rslora = options.get<bool>("use_rslora");
  if (lora.r < 1) throw Error("lora", options.context() + ": r = " + std::to_string(lora.r) + ", expected 1 or more");
  if (lora.lora_dropout < 0.0 || lora.lora_dropout >= 1.0) {
    throw Error("lora", options.context() + ": lora_dropout = " + std::to_string(lora.lora_dropout) +
                            ", expected a value in [0, 1)");
  }
  return lora;
}

}  // namespace peft::lora
