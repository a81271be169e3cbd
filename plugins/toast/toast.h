#pragma once
// TOAST (Shi et al., 2023): top-down attention steering of a frozen transformer in two passes (docs/methods.md).

#include <peft/method.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <vector>

#include "toast_options.h"

namespace peft::toast {

/// One feedback decoder: two bias-free D × D Linears, with optional rank-r LoRA on each (lite).
class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(std::int64_t dim, std::int64_t lora_rank);
  torch::Tensor first(const torch::Tensor& x);   // `linear`
  torch::Tensor second(const torch::Tensor& x);  // `linear2`

  torch::nn::Linear linear{nullptr};
  torch::nn::Linear linear2{nullptr};
  std::vector<torch::Tensor> lora;  // A1, B1, A2, B2 (lite)
};
TORCH_MODULE(Decoder);

/// TOAST's own modules: the task prompt p [D], the top-down transform T [D, D] and one decoder per block.
class TopDownImpl : public torch::nn::Module {
 public:
  TopDownImpl(std::int64_t dim, std::int64_t blocks, std::int64_t lora_rank);
  /// Token selection then feedback from the top block down: td_l for every block l.
  std::vector<torch::Tensor> signals(const torch::Tensor& tokens);

  torch::Tensor prompt;
  torch::Tensor top_down_transform;
  std::vector<Decoder> decoders;
};
TORCH_MODULE(TopDown);

class Toast final : public Method {
 public:
  explicit Toast(ToastOptions options) : options_(std::move(options)) {}

  bool needs_taps() const override { return true; }
  bool starts_at_backbone() const override { return false; }
  std::int64_t forward_passes() const override { return 2; }
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override;
  void train(Backbone& backbone, bool training) override;
  /// Pass 1 (frozen), token selection and feedback, pass 2 with each block's values steered; logits of pass 2.
  Outputs forward(Backbone& backbone, const Batch& batch) override;
  at::Tensor extra_loss() override { return extra_loss_; }
  /// The whole top-down path (decoders, prompt, T, and LoRA in lite mode), whatever trains.
  NamedTensors adapter_state() override;
  void load_adapter_state(const NamedTensors& state, const std::string& source) override;
  std::string merge_refusal() const override {
    return "TOAST steers attention with a second, input-dependent pass; nothing folds into the weights";
  }

  TopDown top_down{nullptr};

 private:
  ToastOptions options_;
  at::Tensor extra_loss_;
};

}  // namespace peft::toast
