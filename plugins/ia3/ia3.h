#pragma once
// IA3 (Liu et al., 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning"),
// as Hugging Face peft implements it: a learned vector l per selected Linear, initialised to ones. On a feed-forward
// site it scales the layer's input, y = (x ⊙ l) Wᵀ + b (l [1, in]); on any other site its output,
// y = (x Wᵀ + b) ⊙ l (l [out, 1]). Merging multiplies W's columns (feed-forward) or W's rows and b (others) by l.

#include <peft/method.h>
#include <peft/option_table.h>
#include <peft/site.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peft::ia3 {

/// IA3's recipe options, named as Hugging Face peft's IA3Config names them.
struct Ia3Options {
  /// The selected sites whose input is scaled: a site named so, or whose name ends in `.` + one of these. Unset: the
  /// backbone's MLP output layers (SiteRole::mlp_output: timm's mlp.fc2, LLaMA's mlp.down_proj), or on a backbone
  /// that names no roles the sites called fc2 or down_proj.
  std::optional<std::vector<std::string>> feedforward_modules;
};

const OptionTable<Ia3Options>& ia3_option_table();

/// Whether `site` is one of `patterns` (its whole name, or a run of its trailing name segments).
bool matches_module(const std::string& site, const std::vector<std::string>& patterns);

class Ia3Adapter final : public SiteAdapter {
 public:
  Ia3Adapter(const Site& site, bool on_feedforward);
  torch::Tensor input_of(const torch::Tensor& input) override;
  torch::Tensor output_of(const torch::Tensor& input, const torch::Tensor& output) override;
  void merge();
  void unmerge();

  bool feedforward;
  /// [1, in] on a feed-forward site, [out, 1] elsewhere, as Hugging Face peft's `ia3_l`.
  torch::Tensor ia3_l;

 private:
  Site site_;
  bool merged_ = false;
};

class Ia3 final : public Method {
 public:
  explicit Ia3(Ia3Options options) : options_(std::move(options)) {}

  /// As the paper and Hugging Face peft's defaults: the attention's keys and values and the MLP's output layers.
  std::vector<std::string> default_targets(const Backbone& backbone) const override;
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override;
  std::string merge_refusal() const override { return {}; }
  void merge() override;
  void unmerge() override;
  /// Hugging Face peft's IA3Config for the attached sites.
  std::string adapter_config_json() const override;

 private:
  Ia3Options options_;
  std::vector<std::string> site_names_;
  std::vector<std::shared_ptr<Ia3Adapter>> adapters_;
};

}  // namespace peft::ia3
