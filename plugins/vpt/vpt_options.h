#pragma once

#include <peft/option_table.h>

#include <cstdint>

namespace peft::vpt {

/// VPT's recipe options (`[method.options]`).
struct VptOptions {
  /// Prompt tokens per block (default 5).
  std::int64_t tokens = 5;
  /// Deep: every block gets its own prompts; shallow: only the first (default true).
  bool deep = true;
  /// Dropout on the prompts in training (default 0).
  double dropout = 0.0;
};

/// The recipe keys of VptOptions, each declared once.
const OptionTable<VptOptions>& vpt_option_table();

}  // namespace peft::vpt
