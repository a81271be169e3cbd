#pragma once
// GIFT (Savadikar, Song, Wu): a generator shared by all selected layers of one weight shape reads their frozen
// weights and generates their residual ΔW = H(W Pᵀ) Qᵀ (docs/gift.md).

#include <peft/backbone.h>
#include <peft/method.h>
#include <peft/site.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "generator.h"
#include "gift_options.h"

namespace peft::gift {

/// The layers of one weight shape and their shared generator.
struct Group {
  std::string name;  // "768x768"
  Generator generator{nullptr};
  /// The layers' frozen weights as they were at attach, stacked [L, N, d_in] in float32 (read without gradient).
  torch::Tensor weights;
  /// The layers' live weights (the sites'), which merge changes, and their names.
  std::vector<torch::Tensor> site_weights;
  std::vector<std::string> site_names;
  bool merged = false;

  /// Runs the generator once for all L layers (the start of a forward pass).
  void generate();
  /// Layer `index`'s G_l [N, d]. G is reused only while it is what the generator would give now: it is made anew
  /// when a generator parameter changed since (an optimiser step, a loaded adapter), when autograd's mode differs,
  /// or when this layer already took its slice (a new forward pass, e.g. the backbone called directly).
  torch::Tensor g_of(std::int64_t index);

 private:
  std::vector<std::int64_t> parameter_versions() const;

  /// G = H(W Pᵀ) [L, N, d], and what it was made from.
  torch::Tensor g_;
  std::vector<std::int64_t> g_versions_;
  bool g_grad_mode_ = false;
  std::vector<bool> g_taken_;
};

/// The per-site half: y gains x ΔW_lᵀ = (x Q) G_lᵀ, the factorised form (docs/gift.md §4): W + ΔW is never formed.
class GiftAdapter final : public SiteAdapter {
 public:
  GiftAdapter(std::shared_ptr<Group> group, std::int64_t index) : group_(std::move(group)), index_(index) {}
  torch::Tensor output_delta(const torch::Tensor& input) override;

 private:
  std::shared_ptr<Group> group_;
  std::int64_t index_;
};

class Gift final : public Method {
 public:
  explicit Gift(GiftOptions options) : options_(std::move(options)) {}

  /// The attention's output projections (timm's attn.proj, LLaMA's self_attn.o_proj), as the paper adapts.
  std::vector<std::string> default_targets(const Backbone& backbone) const override {
    return role_patterns(backbone, {SiteRole::attention_output});
  }
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override;
  /// Generates G for every group once, then runs the backbone, whose sites reuse it.
  Outputs forward(Backbone& backbone, const Batch& batch) override;
  std::string merge_refusal() const override { return {}; }
  /// W ← W + ΔW (computed in float32, cast to W's dtype); unmerge restores W exactly.
  void merge() override;
  void unmerge() override;
  /// Per site: σ(S) of the last PaCa block [d_out, M] (paca), or W Pᵀ [d_out, d] (linear).
  NamedTensors explain_matrices() override;
  /// Per site: B = G_l [d_out, d] and A = Qᵀ [d, d_in] (ΔW = G Qᵀ is rank d); with the recovery bias b, which
  /// adds bᵀ to every row, B gains a column of ones and A the row bᵀ (rank d + 1).
  std::vector<LowRankDelta> low_rank_deltas() override;
  std::string adapter_config_json() const override;

  const std::vector<std::shared_ptr<Group>>& groups() const { return groups_; }

 private:
  GiftOptions options_;
  std::vector<std::shared_ptr<Group>> groups_;
};

}  // namespace peft::gift
