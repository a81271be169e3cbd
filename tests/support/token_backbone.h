#pragma once
// A backbone over token ids, for what must hold on a model that is not an image model: it reads `input_ids` and
// `attention_mask`, has one site and no image input, classifier head or taps.

#include <ATen/ATen.h>

#include "peft/backbone.h"
#include "peft/state_dict.h"

namespace peft::test {

class TokenBackbone final : public Backbone {
 public:
  TokenBackbone() : proj_(register_module("proj", Site("proj", 4, 4))) {}
  std::vector<std::string> inputs() const override { return {keys::input_ids, keys::attention_mask}; }
  Outputs forward(const Batch& batch) override {
    return {{keys::logits, proj_(at::one_hot(batch.at(keys::input_ids), 4).to(at::kFloat))}};
  }
  std::vector<Site> sites() override { return {proj_}; }
  std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) override {
    load_state_dict(*this, checkpoint);
    return {};
  }

 private:
  Site proj_;
};

}  // namespace peft::test
