#include "vpt_options.h"

namespace peft::vpt {

const OptionTable<VptOptions>& vpt_option_table() {
  using O = VptOptions;
  static const auto table = OptionTable<O>()
                                .add("tokens", &O::tokens, "prompt tokens per block")
                                .at_least(1)
                                .add("deep", &O::deep, "prompts at every block (deep) or only the first (shallow)")
                                .add("dropout", &O::dropout, "dropout on the prompts in training")
                                .in_range(0.0, 1.0);
  return table;
}

}  // namespace peft::vpt
