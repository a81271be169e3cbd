#pragma once
// VPT (Jia et al., 2022): learned prompt tokens in the token sequence of a frozen transformer (docs/methods.md).

#include <peft/method.h>

#include <memory>

#include "vpt_options.h"

namespace peft::vpt {

class Vpt final : public Method {
 public:
  explicit Vpt(VptOptions options) : options_(options) {}

  bool needs_taps() const override { return true; }
  bool starts_at_backbone() const override { return false; }
  /// Inserts n prompts after the prefix tokens at block 0; deep: replaces them with each block's own from block 1.
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override { return {{"vpt.prompts", state_->prompts}}; }
  /// The backbone stays in evaluation mode (no dropout or stochastic depth in it); only prompt dropout trains.
  void train(Backbone& backbone, bool training) override;
  std::string merge_refusal() const override {
    return "VPT adds prompt tokens to the sequence; there are no weights to fold them into";
  }

 private:
  struct State {
    at::Tensor prompts;  // [blocks or 1, n, D]
    std::int64_t prefix = 1;
    bool training = false;
  };
  VptOptions options_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace peft::vpt
