#include "paca.h"

#include <torch/nn/functional/activation.h>

#include <cmath>

namespace peft::gift {

torch::Tensor l2_normalize(const torch::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

PacaAttentionImpl::PacaAttentionImpl(std::int64_t dim, std::int64_t clusters, std::int64_t heads, bool sigmoid_clusters)
    : heads_(heads), sigmoid_clusters_(sigmoid_clusters) {
  // `cluster.cluster`: the official code's nesting, kept so its weights load by name.
  auto holder = register_module("cluster", std::make_shared<torch::nn::Module>("Cluster"));
  cluster = holder->register_module("cluster", torch::nn::Linear(dim, clusters));
  q = register_module("q", torch::nn::Linear(dim, dim));
  k = register_module("k", torch::nn::Linear(dim, dim));
  v = register_module("v", torch::nn::Linear(dim, dim));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor PacaAttentionImpl::forward(const torch::Tensor& u, torch::Tensor* assignment) {
  const std::int64_t layers = u.size(0);
  const std::int64_t tokens = u.size(1);
  const std::int64_t dim = u.size(2);
  const std::int64_t clusters = cluster->weight.size(0);
  const std::int64_t head_dim = dim / heads_;
  const torch::Tensor logits = cluster(u);  // [L, N, M]
  // The paper's sigmoid with a fixed 1/N: a softmax over tokens drifts towards uniform assignments.
  const torch::Tensor activation = sigmoid_clusters_ ? logits.sigmoid() : logits.softmax(1);
  const torch::Tensor assign = sigmoid_clusters_ ? activation / static_cast<double>(tokens) : activation;
  if (assignment != nullptr) *assignment = activation;
  const torch::Tensor centers = l2_normalize(assign.transpose(1, 2).matmul(u));  // [L, M, d]

  const auto split = [&](const torch::Tensor& t, std::int64_t count) {
    return t.view({layers, count, heads_, head_dim}).transpose(1, 2);  // [L, h, count, d/h]
  };
  const torch::Tensor queries = split(q(u), tokens);
  const torch::Tensor keys = split(k(centers), clusters);
  const torch::Tensor values = split(v(centers), clusters);
  const torch::Tensor attention =
      queries.matmul(keys.transpose(-1, -2)).div(std::sqrt(static_cast<double>(head_dim))).softmax(-1);
  return proj(attention.matmul(values).transpose(1, 2).reshape({layers, tokens, dim}));
}

PacaBlockImpl::PacaBlockImpl(std::int64_t dim, std::int64_t clusters, std::int64_t heads, double mlp_ratio,
                             bool sigmoid_clusters) {
  attn = register_module("attn", PacaAttention(dim, clusters, heads, sigmoid_clusters));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>("Mlp"));
  const auto hidden = static_cast<std::int64_t>(std::lround(mlp_ratio * static_cast<double>(dim)));
  fc1 = mlp->register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = mlp->register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor PacaBlockImpl::forward(const torch::Tensor& x, torch::Tensor* assignment) {
  torch::Tensor out = x + attn(l2_normalize(x), assignment);
  return out + fc2(torch::nn::functional::gelu(fc1(l2_normalize(out))));
}

}  // namespace peft::gift
