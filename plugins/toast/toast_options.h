#pragma once

#include <peft/option_table.h>

namespace peft::toast {

/// TOAST's recipe options (`[method.options]`).
struct ToastOptions {
  enum class Mode { full, lite };

  /// full: the decoders, prompt and head train; lite: rank-4 LoRA on the decoders, the prompt, T and the head.
  Mode mode = Mode::full;
  /// Weight of the variational loss that pre-tunes the top-down path (0: off, as in task tuning).
  double variational_loss = 0.0;
};

/// The recipe keys of ToastOptions, each declared once.
const OptionTable<ToastOptions>& toast_option_table();

}  // namespace peft::toast
