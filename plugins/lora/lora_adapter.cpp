#include "lora_adapter.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/linear.h>
#include <torch/nn/init.h>

#include <cmath>

namespace peft::lora {

LoraAdapter::LoraAdapter(const Site& site, std::int64_t rank, double scale, double dropout,
                         std::shared_ptr<const bool> training, bool dora)
    : weight_(site->weight), bias_(site->bias), scale_(scale), dropout_(dropout), training_(std::move(training)) {
  const auto options = weight_.options().requires_grad(false);
  lora_a = torch::empty({rank, site->in_features()}, options);
  torch::nn::init::kaiming_uniform_(lora_a, std::sqrt(5.0));
  lora_b = torch::zeros({site->out_features(), rank}, options);
  if (dora) {
    at::NoGradGuard no_grad;
    magnitude = weight_.norm(2, {1}).contiguous();  // ‖W + s·B A‖ per row with B = 0
  }
}

torch::Tensor LoraAdapter::branch_input(const torch::Tensor& input) const {
  return dropout_ > 0.0 && *training_ ? at::dropout(input, dropout_, true) : input;
}

torch::Tensor LoraAdapter::output_delta(const torch::Tensor& input) {
  if (merged_ || magnitude.defined()) return {};
  return at::linear(at::linear(branch_input(input), lora_a), lora_b) * scale_;
}

torch::Tensor LoraAdapter::output_of(const torch::Tensor& input, const torch::Tensor& output) {
  if (merged_ || !magnitude.defined()) return {};
  const bool drops = dropout_ > 0.0 && *training_;
  const torch::Tensor x = branch_input(input);
  // ‖W + s·B A‖ per output row, detached: the DoRA paper's §4.3, as peft's get_weight_norm(...).detach().
  torch::Tensor weight_norm;
  {
    at::NoGradGuard no_grad;
    weight_norm = (weight_ + lora_b.matmul(lora_a) * scale_).norm(2, {1});
  }
  const torch::Tensor factor = magnitude / weight_norm;
  // x Wᵀ: the base output less its bias, unless dropout changed the input.
  torch::Tensor base = drops ? at::linear(x, weight_) : (bias_.defined() ? output - bias_ : output);
  return output + (factor - 1) * base + factor * at::linear(at::linear(x, lora_a), lora_b) * scale_;
}

torch::Tensor LoraAdapter::update() const {
  return lora_b.to(torch::kFloat32).matmul(lora_a.to(torch::kFloat32)).mul(scale_);
}

void LoraAdapter::merge() {
  if (merged_) return;
  at::NoGradGuard no_grad;
  const torch::Tensor updated = weight_.to(torch::kFloat32).add(update());
  if (magnitude.defined()) {
    unmerged_weight_ = weight_.clone();
    const torch::Tensor factor = magnitude.to(torch::kFloat32) / updated.norm(2, {1});
    weight_.copy_(updated * factor.unsqueeze(1));
  } else {
    weight_.copy_(updated);
  }
  merged_ = true;
}

void LoraAdapter::unmerge() {
  if (!merged_) return;
  at::NoGradGuard no_grad;
  if (magnitude.defined()) {
    weight_.copy_(unmerged_weight_);
    unmerged_weight_ = torch::Tensor();
  } else {
    weight_.copy_(weight_.to(torch::kFloat32).sub(update()));
  }
  merged_ = false;
}

}  // namespace peft::lora
