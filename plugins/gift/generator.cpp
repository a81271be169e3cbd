#include "generator.h"

#include <ATen/core/grad_mode.h>
#include <torch/nn/init.h>

#include <cmath>

namespace peft::gift {

GeneratorImpl::GeneratorImpl(std::int64_t rows, std::int64_t columns, const GiftOptions& options) {
  const std::int64_t d = options.dim;
  reduction = register_module("reduction",
                              torch::nn::Linear(torch::nn::LinearOptions(columns, d).bias(options.reduction_bias)));
  recovery =
      register_module("recovery", torch::nn::Linear(torch::nn::LinearOptions(d, columns).bias(options.recovery_bias)));
  {
    at::NoGradGuard no_grad;
    recovery->weight.zero_();
    if (options.recovery_bias) recovery->bias.zero_();
  }
  if (options.schema != GiftOptions::Schema::paca) return;
  if (options.positional_encoding) {
    pos_embed = register_parameter("pos_embed", torch::empty({rows, d}));
    at::NoGradGuard no_grad;
    // timm's trunc_normal_(std = 0.02): truncated at ±2 (absolute), which at this std cuts nothing in practice.
    pos_embed.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  }
  auto list = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t b = 0; b < options.blocks; ++b) {
    blocks.emplace_back(d, options.clusters, options.heads, options.mlp_ratio,
                        options.cluster_activation == GiftOptions::ClusterActivation::sigmoid);
    list->push_back(blocks.back());
  }
}

torch::Tensor GeneratorImpl::body(const torch::Tensor& weights, torch::Tensor* assignment) {
  ++body_calls_;
  torch::Tensor x = reduction(weights.to(torch::kFloat32));
  if (pos_embed.defined()) x = x + pos_embed;
  for (auto& block : blocks) x = block(x, assignment);
  return x;
}

torch::Tensor GeneratorImpl::delta(const torch::Tensor& g) {
  return recovery->forward(g);  // G Qᵀ + bias
}

std::vector<const torch::Tensor*> GeneratorImpl::no_decay() const {
  std::vector<const torch::Tensor*> tensors;
  if (pos_embed.defined()) tensors.push_back(&pos_embed);
  for (const auto& block : blocks) tensors.push_back(&block->attn->cluster->weight);
  return tensors;
}

std::int64_t generator_parameter_count(std::int64_t rows, std::int64_t columns, const GiftOptions& options) {
  const std::int64_t d = options.dim;
  std::int64_t count = d * columns + columns * d;
  if (options.reduction_bias) count += d;
  if (options.recovery_bias) count += columns;
  if (options.schema != GiftOptions::Schema::paca) return count;
  if (options.positional_encoding) count += rows * d;
  const auto hidden = static_cast<std::int64_t>(std::lround(options.mlp_ratio * static_cast<double>(d)));
  const std::int64_t block = d * options.clusters + options.clusters + 4 * (d * d + d) + 2 * hidden * d + hidden + d;
  return count + options.blocks * block;
}

}  // namespace peft::gift
