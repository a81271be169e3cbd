#include "peft/site.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/addmv.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/mv.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>

#include "kernels/gemv.h"

namespace peft {

namespace {

// One row on the CPU: a matrix-vector product rather than a one-row GEMM.
bool is_one_cpu_row(const torch::Tensor& input, const torch::Tensor& weight) {
  return input.dim() >= 1 && input.numel() == input.size(-1) && input.numel() > 0 && input.device().is_cpu() &&
         weight.dim() == 2;
}

bool is_dense_cpu_float(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided && t.device().is_cpu() &&
         !t._is_zerotensor() && t.is_contiguous();
}

// Whether peft's own float32 kernel may compute it: dense float32 operands, nothing to differentiate (at::mv does
// that).
bool fits_own_gemv(const torch::Tensor& row, const torch::Tensor& weight, const torch::Tensor& bias) {
  const bool needs_grad = at::GradMode::is_enabled() &&
                          (row.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  const bool bias_fits =
      !bias.defined() || (is_dense_cpu_float(bias) && bias.dim() == 1 && bias.numel() == weight.size(0));
  return row.scalar_type() == torch::kFloat && is_dense_cpu_float(weight) && bias_fits && !needs_grad;
}

torch::Tensor own_gemv(const torch::Tensor& row, const torch::Tensor& weight, const torch::Tensor& bias) {
  const torch::Tensor x = row.contiguous();
  torch::Tensor out = torch::empty({weight.size(0)}, weight.options());
  kernels::gemv(weight.data_ptr<float>(), weight.size(0), weight.size(1), x.data_ptr<float>(),
                bias.defined() ? bias.data_ptr<float>() : nullptr, out.data_ptr<float>());
  return out;
}

}  // namespace

torch::Tensor linear(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias) {
  // Autocast lowers at::linear's precision but not at::mv's: under it every row count goes to at::linear.
  if (!is_one_cpu_row(input, weight) || at::autocast::is_autocast_enabled(at::kCPU)) {
    return at::linear(input, weight, bias);
  }
  std::vector<std::int64_t> shape = input.sizes().vec();
  shape.back() = weight.size(0);
  const torch::Tensor row = input.reshape({-1});
  TORCH_CHECK(row.size(0) == weight.size(1), "linear: input has ", row.size(0), " features, the weight takes ",
              weight.size(1));
  torch::Tensor out;
  if (fits_own_gemv(row, weight, bias)) {
    out = own_gemv(row, weight, bias);
  } else {
    out = bias.defined() ? at::addmv(bias, weight, row) : at::mv(weight, row);
  }
  return out.view(shape);
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
