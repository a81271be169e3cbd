#pragma once

#include <peft/options.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peft::gift {

/// GIFT's recipe options (`[method.options]`); docs/gift.md is the contract.
struct GiftOptions {
  /// "paca": the PaCa hyper-Transformer body (the paper's v1); "linear": no body, ΔW = W Pᵀ Qᵀ (the released code).
  std::string schema = "paca";
  /// Width d of the generator's tokens (default 48).
  std::int64_t dim = 48;
  /// PaCa blocks (default 1).
  std::int64_t blocks = 1;
  /// Clusters M per PaCa block (default 96).
  std::int64_t clusters = 96;
  /// Attention heads (default 1); dim must divide by it.
  std::int64_t heads = 1;
  /// FFN hidden width / dim (default 2).
  double mlp_ratio = 2.0;
  /// A learned positional encoding over the weight's rows (default true; paca only).
  bool positional_encoding = true;
  /// "sigmoid" (σ(S)/N, the paper's) or "softmax" over the tokens (the ablation).
  std::string cluster_activation = "sigmoid";
  /// Bias on the reduction P and on the recovery Q (default false for both).
  bool reduction_bias = false;
  bool recovery_bias = false;
};

const std::vector<OptionSpec>& gift_option_specs();

/// Reads resolved options; a bad value is a peft::Error naming the key and what is allowed.
GiftOptions gift_options_from(const Options& options);

}  // namespace peft::gift
