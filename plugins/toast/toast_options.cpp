#include "toast_options.h"

namespace peft::toast {

const OptionTable<ToastOptions>& toast_option_table() {
  using O = ToastOptions;
  static const auto table =
      OptionTable<O>()
          .add_choice("mode", &O::mode, {{"full", O::Mode::full}, {"lite", O::Mode::lite}},
                      "what trains: the decoders and prompt, or rank-4 LoRA on the decoders, the prompt and T")
          .add("variational_loss", &O::variational_loss, "weight of the variational loss pre-tuning the top-down path")
          .in_range(0.0, 1e9);
  return table;
}

}  // namespace peft::toast
