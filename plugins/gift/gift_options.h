#pragma once

#include <peft/option_table.h>

#include <cstdint>

namespace peft::gift {

/// GIFT's recipe options (`[method.options]`); docs/gift.md is the contract.
struct GiftOptions {
  enum class Schema { paca, linear };
  enum class ClusterActivation { sigmoid, softmax };

  /// paca: the PaCa hyper-Transformer body (the paper's v1); linear: no body, ΔW = W Pᵀ Qᵀ (the released code).
  Schema schema = Schema::paca;
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
  /// sigmoid: σ(S)/N, the paper's; softmax over the tokens: the ablation.
  ClusterActivation cluster_activation = ClusterActivation::sigmoid;
  /// Bias on the reduction P (default false).
  bool reduction_bias = false;
  /// Bias on the recovery Q (default false).
  bool recovery_bias = false;
};

/// The recipe keys of GiftOptions, each declared once.
const OptionTable<GiftOptions>& gift_option_table();

}  // namespace peft::gift
