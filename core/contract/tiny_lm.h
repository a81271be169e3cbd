#pragma once
// The smallest causal language model, for what must hold on a backbone that is not an image model: token ids →
// embedding → one adaptable site `proj` → LM head over the vocabulary. No image input, classifier head or taps.
// Header-only and SDK-only: the contract suite (`peft test-plugin`) runs every method on it, and the tests' `tiny_lm`
// fixture plugin serves it to runs of text tasks.

#include <ATen/ATen.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "peft/backbone.h"
#include "peft/state_dict.h"

namespace peft::contract {

class TinyLm final : public Backbone {
 public:
  explicit TinyLm(std::int64_t vocab_size = 16, std::int64_t dim = 8)
      : embed_(register_module("embed", torch::nn::Embedding(vocab_size, dim))),
        proj_(register_module("proj", Site("proj", dim, dim))),
        lm_head_(register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(dim, vocab_size).bias(false)))) {
  }

  std::vector<std::string> inputs() const override { return {keys::input_ids, keys::attention_mask}; }
  /// `hidden` [B, T, D] and `logits` [B, T, vocabulary]; each position sees only its own token (no attention), so
  /// the model learns the bigram statistics of its data.
  Outputs forward(const Batch& batch) override {
    const at::Tensor hidden = at::gelu(proj_(embed_(batch.at(keys::input_ids))));
    return {{keys::hidden, hidden}, {keys::logits, lm_head_(hidden)}};
  }
  NamedTensors head_parameters() override { return {{"lm_head.weight", lm_head_->weight}}; }
  std::vector<Site> sites() override { return {proj_}; }
  std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) override {
    load_state_dict(*this, checkpoint);
    return {};
  }

 private:
  torch::nn::Embedding embed_;
  Site proj_;
  torch::nn::Linear lm_head_;
};

}  // namespace peft::contract
