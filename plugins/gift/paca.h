#pragma once
// The PaCa hyper-Transformer block of GIFT (docs/gift.md §3, §5): tokens are the rows of pretrained weights, so the
// norm is a parameter-free ℓ2 and attention runs from the N tokens to M learned clusters (O(N·M·d), not O(N²·d)).

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace peft::gift {

/// Scales every row (last dimension) to unit L2 norm, eps 1e-12; no parameters.
torch::Tensor l2_normalize(const torch::Tensor& x);

/// Parameter-to-Cluster Attention over a batch of layers' tokens U [L, N, d] (already ℓ2-normed).
/// Module names follow the official code: `cluster.cluster`, `q`, `k`, `v`, `proj`.
class PacaAttentionImpl : public torch::nn::Module {
 public:
  PacaAttentionImpl(std::int64_t dim, std::int64_t clusters, std::int64_t heads, bool sigmoid_clusters);
  /// PaCa(U) [L, N, d]. `assignment`, when given, receives σ(S) [L, N, M] (softmax: the assignment itself).
  torch::Tensor forward(const torch::Tensor& u, torch::Tensor* assignment = nullptr);

  torch::nn::Linear cluster{nullptr};
  torch::nn::Linear q{nullptr};
  torch::nn::Linear k{nullptr};
  torch::nn::Linear v{nullptr};
  torch::nn::Linear proj{nullptr};

 private:
  std::int64_t heads_;
  bool sigmoid_clusters_;
};
TORCH_MODULE(PacaAttention);

/// One pre-norm block: X + PaCa(ℓ2(X)), then X + FFN(ℓ2(X)) with FFN = Linear(d, r·d) → GELU → Linear(r·d, d).
class PacaBlockImpl : public torch::nn::Module {
 public:
  PacaBlockImpl(std::int64_t dim, std::int64_t clusters, std::int64_t heads, double mlp_ratio, bool sigmoid_clusters);
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* assignment = nullptr);

  PacaAttention attn{nullptr};
  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(PacaBlock);

}  // namespace peft::gift
