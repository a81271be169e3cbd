#include "peft/site.h"

#include <ATen/ops/addmv.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/mv.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>

namespace peft {

torch::Tensor linear(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (input.dim() >= 1 && input.numel() == input.size(-1) && input.numel() > 0 && input.device().is_cpu() &&
      weight.dim() == 2) {
    std::vector<std::int64_t> shape = input.sizes().vec();
    shape.back() = weight.size(0);
    const torch::Tensor row = input.reshape({-1});
    const torch::Tensor out = bias.defined() ? at::addmv(bias, weight, row) : at::mv(weight, row);
    return out.view(shape);
  }
  return at::linear(input, weight, bias);
}

SiteAdapter::~SiteAdapter() = default;
torch::Tensor SiteAdapter::weight_delta(const torch::Tensor&) { return {}; }
torch::Tensor SiteAdapter::output_delta(const torch::Tensor&) { return {}; }
torch::Tensor SiteAdapter::input_of(const torch::Tensor&) { return {}; }
torch::Tensor SiteAdapter::output_of(const torch::Tensor&, const torch::Tensor&) { return {}; }

SiteImpl::SiteImpl(std::string name, std::int64_t in_features, std::int64_t out_features, bool with_bias)
    : site_name_(std::move(name)) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  // As torch::nn::Linear: kaiming-uniform(a = √5) weight, uniform(±1/√in) bias. Backbones re-initialise as their
  // reference does, and checkpoints overwrite both.
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    this->bias = register_parameter("bias", torch::empty({out_features}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    torch::nn::init::uniform_(this->bias, -bound, bound);
  }
}

torch::Tensor SiteImpl::forward(const torch::Tensor& site_input) {
  torch::Tensor input = site_input;
  for (const auto& adapter : adapters_) {
    if (auto changed = adapter->input_of(input); changed.defined()) input = std::move(changed);
  }
  torch::Tensor effective_weight = weight;
  std::vector<torch::Tensor> output_terms;
  for (const auto& adapter : adapters_) {
    if (auto delta = adapter->weight_delta(weight); delta.defined()) effective_weight = effective_weight + delta;
    if (auto term = adapter->output_delta(input); term.defined()) output_terms.push_back(std::move(term));
  }
  torch::Tensor output = linear(input, effective_weight, bias);
  for (const auto& term : output_terms) output = output + term;
  for (const auto& adapter : adapters_) {
    if (auto changed = adapter->output_of(input, output); changed.defined()) output = std::move(changed);
  }
  return output;
}

void SiteImpl::attach(std::shared_ptr<SiteAdapter> adapter) { adapters_.push_back(std::move(adapter)); }

bool SiteImpl::detach(const SiteAdapter* adapter) {
  const auto found = std::find_if(adapters_.begin(), adapters_.end(),
                                  [&](const std::shared_ptr<SiteAdapter>& a) { return a.get() == adapter; });
  if (found == adapters_.end()) return false;
  adapters_.erase(found);
  return true;
}

}  // namespace peft
