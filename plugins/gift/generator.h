#pragma once
// GIFT's generator for one weight-shape group (docs/gift.md §3): G = H(W Pᵀ), ΔW = G Qᵀ, for all L layers at once.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <atomic>
#include <vector>

#include "gift_options.h"
#include "paca.h"

namespace peft::gift {

class GeneratorImpl : public torch::nn::Module {
 public:
  /// For weights of `rows` × `columns` ([out, in]). Q starts at zero, so ΔW = 0 at the start; the rest uses
  /// LibTorch's default Linear init; the positional encoding is truncated normal (std 0.02).
  GeneratorImpl(std::int64_t rows, std::int64_t columns, const GiftOptions& options);

  /// G = H(W Pᵀ) [L, N, d] for the stacked weights W [L, N, d_in], in float32. With `assignment`, the last PaCa
  /// block's σ(S) [L, N, M] (paca only).
  torch::Tensor body(const torch::Tensor& weights, torch::Tensor* assignment = nullptr);

  /// ΔW = G Qᵀ (+ the recovery bias on every row) [L, N, d_in].
  torch::Tensor delta(const torch::Tensor& g);

  /// How many times body() ran (the tests check it runs once per step, whatever the number of layers).
  std::int64_t body_calls() const { return body_calls_; }

  /// The parameters that take no weight decay beyond 1-D ones (docs/gift.md §6): the positional encoding and the
  /// cluster Linears.
  std::vector<const torch::Tensor*> no_decay() const;

  torch::nn::Linear reduction{nullptr};  // P
  torch::nn::Linear recovery{nullptr};   // Q
  torch::Tensor pos_embed;               // E [N, d], when on
  std::vector<PacaBlock> blocks;

 private:
  std::int64_t body_calls_ = 0;
};
TORCH_MODULE(Generator);

/// The generator's parameter count as docs/gift.md §5 gives it: d·d_in (P) + d_in·d (Q) + N·d (positional encoding,
/// when on) + blocks × (d·M + M + 4(d² + d) + 2·r·d² + r·d + d), plus the optional P and Q biases.
std::int64_t generator_parameter_count(std::int64_t rows, std::int64_t columns, const GiftOptions& options);

}  // namespace peft::gift
