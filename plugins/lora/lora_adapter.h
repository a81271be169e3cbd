#pragma once
// The per-site half of LoRA: the low-rank pair (A, B) of one Linear and its merge.

#include <peft/site.h>

#include <memory>

namespace peft::lora {

class LoraAdapter final : public SiteAdapter {
 public:
  /// A [r, in] as torch::nn::Linear initialises a weight (kaiming-uniform, a = √5), B [out, r] zeros: the update
  /// starts at zero. `training` is the method's mode flag (dropout runs only in training).
  LoraAdapter(const Site& site, std::int64_t rank, double scale, double dropout, std::shared_ptr<const bool> training);

  /// s · dropout(x) Aᵀ Bᵀ, or nothing while merged.
  torch::Tensor output_delta(const torch::Tensor& input) override;

  /// W += s · B A (in float32, cast to W's dtype); the branch then adds nothing until unmerge.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }

  torch::Tensor lora_a;
  torch::Tensor lora_b;

 private:
  torch::Tensor update() const;

  torch::Tensor weight_;  // the site's weight, shared storage
  double scale_;
  double dropout_;
  std::shared_ptr<const bool> training_;
  bool merged_ = false;
};

}  // namespace peft::lora
