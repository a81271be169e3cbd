#pragma once

#include <torch/nn/modules/linear.h>

#include "peft/backbone.h"

namespace peft::contract {

/// The smallest backbone with two sites and a head and no transformer taps: images [B, 3, 2, 2] → fc1 → GELU →
/// fc2 → head (3 classes). The contract suite runs every method on it and on a tiny ViT.
class MlpBackbone final : public Backbone, public ImageInput, public ClassifierHead {
 public:
  MlpBackbone();
  std::vector<std::string> inputs() const override { return {keys::images}; }
  Outputs forward(const Batch& batch) override;
  std::int64_t num_classes() const override { return 3; }
  void reset_classifier(std::int64_t num_classes) override;
  NamedTensors head_parameters() override;
  std::vector<Site> sites() override { return {fc1_, fc2_}; }
  std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) override;
  Preprocessing preprocessing() const override;
  ImageInput* image_input() override { return this; }
  ClassifierHead* classifier() override { return this; }

 private:
  Site fc1_;
  Site fc2_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace peft::contract
