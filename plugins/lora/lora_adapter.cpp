#include "lora_adapter.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/linear.h>
#include <torch/nn/init.h>

#include <cmath>

namespace peft::lora {

LoraAdapter::LoraAdapter(const Site& site, std::int64_t rank, double scale, double dropout,
                         std::shared_ptr<const bool> training)
    : weight_(site->weight), scale_(scale), dropout_(dropout), training_(std::move(training)) {
  const auto options = weight_.options().requires_grad(false);
  lora_a = torch::empty({rank, site->in_features()}, options);
  torch::nn::init::kaiming_uniform_(lora_a, std::sqrt(5.0));
  lora_b = torch::zeros({site->out_features(), rank}, options);
}

torch::Tensor LoraAdapter::output_delta(const torch::Tensor& input) {
  if (merged_) return {};
  const torch::Tensor x = dropout_ > 0.0 && *training_ ? at::dropout(input, dropout_, true) : input;
  return at::linear(at::linear(x, lora_a), lora_b) * scale_;
}

torch::Tensor LoraAdapter::update() const {
  return lora_b.to(torch::kFloat32).matmul(lora_a.to(torch::kFloat32)).mul(scale_);
}

void LoraAdapter::merge() {
  if (merged_) return;
  at::NoGradGuard no_grad;
  weight_.copy_(weight_.to(torch::kFloat32).add(update()));
  merged_ = true;
}

void LoraAdapter::unmerge() {
  if (!merged_) return;
  at::NoGradGuard no_grad;
  weight_.copy_(weight_.to(torch::kFloat32).sub(update()));
  merged_ = false;
}

}  // namespace peft::lora
