#pragma once

#include <peft/option_table.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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
  /// peft's rank_pattern as `MODULE=RANK` entries: a site that MODULE names (its whole name, or a run of its
  /// trailing segments) has rank RANK instead of r; the first entry that names it wins.
  std::vector<std::string> rank_pattern;
  /// peft's alpha_pattern as `MODULE=ALPHA` entries, likewise for lora_alpha.
  std::vector<std::string> alpha_pattern;

  /// rank_pattern and alpha_pattern read (check_patterns has refused malformed entries).
  std::vector<std::pair<std::string, std::int64_t>> ranks() const;
  std::vector<std::pair<std::string, double>> alphas() const;
  /// The rank, lora_alpha and scale (lora_alpha / r, or / √r with use_rslora) of the site named `site`.
  std::int64_t rank_of(const std::string& site) const;
  double alpha_of(const std::string& site) const;
  double scale_of(const std::string& site) const;
};

/// The recipe keys of LoraOptions, each declared once.
const OptionTable<LoraOptions>& lora_option_table();
/// The `dora` plugin's keys: LoRA's without use_dora, which it always sets.
const OptionTable<LoraOptions>& dora_option_table();

}  // namespace peft::lora
