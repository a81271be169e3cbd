#include "toast.h"

#include <ATen/core/grad_mode.h>
#include <peft/backbone.h>
#include <peft/error.h>
#include <peft/state_dict.h>
#include <peft/taps.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>

#include <cmath>

namespace peft::toast {

DecoderImpl::DecoderImpl(std::int64_t dim, std::int64_t lora_rank) {
  linear = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
  linear2 = register_module("linear2", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
  if (lora_rank == 0) return;
  for (const char* name : {"linear_lora_A", "linear_lora_B", "linear2_lora_A", "linear2_lora_B"}) {
    const bool a = std::string(name).back() == 'A';
    auto tensor = register_parameter(name, a ? torch::empty({lora_rank, dim}) : torch::zeros({dim, lora_rank}));
    if (a) torch::nn::init::kaiming_uniform_(tensor, std::sqrt(5.0));
    lora.push_back(tensor);
  }
}

torch::Tensor DecoderImpl::first(const torch::Tensor& x) {
  torch::Tensor y = linear(x);
  return lora.empty() ? y : y + x.matmul(lora[0].t()).matmul(lora[1].t());
}

torch::Tensor DecoderImpl::second(const torch::Tensor& x) {
  torch::Tensor y = linear2(x);
  return lora.empty() ? y : y + x.matmul(lora[2].t()).matmul(lora[3].t());
}

TopDownImpl::TopDownImpl(std::int64_t dim, std::int64_t blocks, std::int64_t lora_rank) {
  prompt = register_parameter("prompt", torch::randn({dim}));
  top_down_transform = register_parameter("top_down_transform", torch::eye(dim));
  auto list = register_module("decoders", torch::nn::ModuleList());
  for (std::int64_t l = 0; l < blocks; ++l) {
    decoders.emplace_back(dim, lora_rank);
    list->push_back(decoders.back());
  }
}

std::vector<torch::Tensor> TopDownImpl::signals(const torch::Tensor& tokens) {
  namespace F = torch::nn::functional;
  // Token selection: each token weighted by its cosine with the task prompt, clamped to [0, 1].
  const torch::Tensor cos = F::normalize(tokens, F::NormalizeFuncOptions().dim(-1))
                                .matmul(F::normalize(prompt, F::NormalizeFuncOptions().dim(0)))
                                .clamp(0.0, 1.0)
                                .unsqueeze(-1);
  torch::Tensor x = (tokens * cos).matmul(top_down_transform);
  std::vector<torch::Tensor> td(decoders.size());
  for (auto l = static_cast<std::int64_t>(decoders.size()) - 1; l >= 0; --l) {
    x = decoders[static_cast<std::size_t>(l)]->first(x);
    td[static_cast<std::size_t>(l)] = decoders[static_cast<std::size_t>(l)]->second(x);
  }
  return td;
}

void Toast::attach(Backbone& backbone, const std::vector<Site>&) {
  TransformerTaps& taps = require_taps(backbone, "toast");
  top_down = TopDown(taps.embed_dim(), taps.num_blocks(), options_.mode == ToastOptions::Mode::lite ? 4 : 0);
  top_down->to(backbone.parameters().front().device());
  // What trains is chosen by the mode (trainable_tensors); the host turns gradients back on for exactly that.
  for (auto& parameter : top_down->parameters()) parameter.set_requires_grad(false);
}

std::vector<TrainableTensor> Toast::trainable_tensors() {
  std::vector<TrainableTensor> tensors;
  const bool lite = options_.mode == ToastOptions::Mode::lite;
  for (const auto& item : top_down->named_parameters()) {
    const std::string& name = item.key();
    const bool is_lora = name.find("lora") != std::string::npos;
    const bool is_decoder = name.rfind("decoders.", 0) == 0;
    const bool is_transform = name == "top_down_transform";
    const bool trains = lite ? (is_lora || !is_decoder) : (!is_lora && !is_transform);
    if (trains) tensors.push_back({"toast." + name, item.value(), name != "prompt"});
  }
  return tensors;
}

NamedTensors Toast::adapter_state() {
  NamedTensors state;
  for (const auto& item : top_down->named_parameters()) state.emplace_back("toast." + item.key(), item.value());
  return state;
}

void Toast::load_adapter_state(const NamedTensors& state, const std::string& source) {
  NamedTensors stripped;
  for (const auto& [name, tensor] : state) {
    stripped.emplace_back(name.rfind("toast.", 0) == 0 ? name.substr(6) : name, tensor);
  }
  load_state_dict(*top_down, stripped, source);
}

void Toast::train(Backbone& backbone, bool training) {
  Method::train(backbone, training);
  top_down->train(training);
}

namespace {

// Clears the hooks a pass installs however the pass ends: they capture the pass's locals, so a hook left behind by
// an exception would call into a finished frame on the next forward.
class HookScope {
 public:
  explicit HookScope(TransformerHooks& hooks) : hooks_(hooks) {}
  HookScope(const HookScope&) = delete;
  HookScope& operator=(const HookScope&) = delete;
  ~HookScope() {
    hooks_.block_output = nullptr;
    hooks_.value_input = nullptr;
  }

 private:
  TransformerHooks& hooks_;
};

}  // namespace

Outputs Toast::forward(Backbone& backbone, const Batch& batch) {
  TransformerHooks& hooks = backbone.taps()->hooks();
  const HookScope scope(hooks);
  std::vector<at::Tensor> block_inputs;
  std::vector<at::Tensor> block_outputs;
  if (options_.variational_loss > 0 && at::GradMode::is_enabled()) {
    hooks.block_output = [&](std::int64_t, const at::Tensor& in, const at::Tensor& out) {
      block_inputs.push_back(in.detach());
      block_outputs.push_back(out.detach());
    };
  }
  at::Tensor first_pass;
  {
    at::NoGradGuard no_grad;  // pass 1 reads the frozen backbone only
    first_pass = backbone.forward(batch).at(keys::hidden);
  }
  hooks.block_output = nullptr;
  const std::vector<at::Tensor> td = top_down->signals(first_pass);
  hooks.value_input = [&](std::int64_t block) { return td[static_cast<std::size_t>(block)]; };
  Outputs outputs = backbone.forward(batch);
  const at::Tensor& logits = outputs.at(keys::logits);
  hooks.value_input = nullptr;
  extra_loss_ = at::Tensor();
  if (!block_inputs.empty()) {
    at::Tensor loss = at::zeros({}, logits.options());
    for (std::size_t l = 0; l < block_inputs.size(); ++l) {
      loss = loss + torch::nn::functional::mse_loss(top_down->decoders[l]->first(block_outputs[l]), block_inputs[l]);
    }
    extra_loss_ = loss * options_.variational_loss;
  }
  return outputs;
}

}  // namespace peft::toast
