#pragma once
// The per-site half of LoRA: the low-rank pair (A, B) of one Linear and its merge; with DoRA (Liu et al., 2024, as
// Hugging Face peft's use_dora) also the magnitude m [out], the output becoming
//   y = b + m / ‖W + s·B A‖ ⊙ (x Wᵀ + s · x Aᵀ Bᵀ)      (row norms, detached, as the DoRA paper's §4.3),
// computed as peft does from the base output: y_base + (m/‖·‖ − 1) ⊙ x Wᵀ + m/‖·‖ ⊙ s · dropout(x) Aᵀ Bᵀ, where
// in training with dropout x Wᵀ is recomputed on dropout(x).

#include <peft/site.h>

#include <memory>

namespace peft::lora {

class LoraAdapter final : public SiteAdapter {
 public:
  /// A [r, in] as torch::nn::Linear initialises a weight (kaiming-uniform, a = √5), B [out, r] zeros: the update
  /// starts at zero. `training` is the method's mode flag (dropout runs only in training).
  /// With `dora`, m starts at W's row norms, so the adapted site starts equal to the layer.
  LoraAdapter(const Site& site, std::int64_t rank, double scale, double dropout, std::shared_ptr<const bool> training,
              bool dora = false);

  /// s · dropout(x) Aᵀ Bᵀ, or nothing while merged (or with DoRA, which rewrites the output instead).
  torch::Tensor output_delta(const torch::Tensor& input) override;
  /// DoRA's output from the base output; nothing without DoRA or while merged.
  torch::Tensor output_of(const torch::Tensor& input, const torch::Tensor& output) override;

  /// W += s · B A (in float32, cast to W's dtype); with DoRA W becomes m/‖W + s·B A‖ ⊙ (W + s·B A), row by row,
  /// and unmerge restores the weight it kept. The branch then adds nothing until unmerge.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }
  /// s: lora_alpha / r (or / √r) of this site.
  double scale() const { return scale_; }

  torch::Tensor lora_a;
  torch::Tensor lora_b;
  /// DoRA's magnitude [out] (undefined without DoRA): Hugging Face peft's lora_magnitude_vector.
  torch::Tensor magnitude;

 private:
  torch::Tensor update() const;
  torch::Tensor branch_input(const torch::Tensor& input) const;

  torch::Tensor weight_;  // the site's weight, shared storage
  torch::Tensor bias_;
  torch::Tensor unmerged_weight_;  // DoRA: the weight before merge
  double scale_;
  double dropout_;
  std::shared_ptr<const bool> training_;
  bool merged_ = false;
};

}  // namespace peft::lora
