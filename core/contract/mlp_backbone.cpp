#include "contract/mlp_backbone.h"

#include <torch/nn/functional/activation.h>

#include "peft/state_dict.h"

namespace peft::contract {

MlpBackbone::MlpBackbone()
    : fc1_(register_module("fc1", Site("fc1", 12, 16))),
      fc2_(register_module("fc2", Site("fc2", 16, 16))),
      head_(register_module("head", torch::nn::Linear(16, 3))) {}

Outputs MlpBackbone::forward(const Batch& batch) {
  return {{keys::logits, head_(fc2_(torch::nn::functional::gelu(fc1_(batch.at(keys::images).flatten(1)))))}};
}

void MlpBackbone::reset_classifier(std::int64_t num_classes) {
  TORCH_CHECK(num_classes == 3, "the MLP fixture has 3 classes");
}

NamedTensors MlpBackbone::head_parameters() { return {{"head.weight", head_->weight}, {"head.bias", head_->bias}}; }

std::vector<std::string> MlpBackbone::load_checkpoint(const CheckpointSource& checkpoint) {
  load_state_dict(*this, checkpoint);
  return {};
}

Preprocessing MlpBackbone::preprocessing() const {
  Preprocessing preprocessing;
  preprocessing.image_size = 2;
  return preprocessing;
}

}  // namespace peft::contract
