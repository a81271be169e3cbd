#include "ia3.h"

#include <ATen/core/grad_mode.h>
#include <peft/backbone.h>
#include <peft/json_object.h>
#include <peft/strings.h>

#include <algorithm>

namespace peft::ia3 {

const OptionTable<Ia3Options>& ia3_option_table() {
  static const auto table = OptionTable<Ia3Options>().add(
      "feedforward_modules", &Ia3Options::feedforward_modules,
      "selected sites whose input is scaled (a name or its trailing segments; default: the backbone's MLP output "
      "layers); the others scale their output");
  return table;
}

bool matches_module(const std::string& site, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return names_module(site, pattern); });
}

Ia3Adapter::Ia3Adapter(const Site& site, bool on_feedforward)
    : feedforward(on_feedforward),
      ia3_l(torch::ones(on_feedforward ? std::vector<std::int64_t>{1, site->in_features()}
                                       : std::vector<std::int64_t>{site->out_features(), 1},
                        site->weight.options())),
      site_(site) {}

torch::Tensor Ia3Adapter::input_of(const torch::Tensor& input) {
  if (!feedforward || merged_) return {};
  return input * ia3_l.flatten();
}

torch::Tensor Ia3Adapter::output_of(const torch::Tensor&, const torch::Tensor& output) {
  if (feedforward || merged_) return {};
  return output * ia3_l.flatten();
}

void Ia3Adapter::merge() {
  at::NoGradGuard no_grad;
  // l [1, in] scales W's columns, l [out, 1] its rows (and the bias), by broadcasting.
  site_->weight.mul_(ia3_l);
  if (!feedforward && site_->has_bias()) site_->bias.mul_(ia3_l.flatten());
  merged_ = true;
}

void Ia3Adapter::unmerge() {
  at::NoGradGuard no_grad;
  // As Hugging Face peft: divided back, with its 1e-8 against a zero scale.
  site_->weight.div_(ia3_l + 1e-8);
  if (!feedforward && site_->has_bias()) site_->bias.div_(ia3_l.flatten() + 1e-8);
  merged_ = false;
}

std::vector<std::string> Ia3::default_targets(const Backbone& backbone) const {
  return role_patterns(backbone, {SiteRole::attention_key, SiteRole::attention_value, SiteRole::mlp_output});
}

void Ia3::attach(Backbone& backbone, const std::vector<Site>& sites) {
  std::vector<std::string> feedforward =
      options_.feedforward_modules.value_or(role_patterns(backbone, {SiteRole::mlp_output}));
  // A backbone that names no roles: the MLP outputs under timm's and Hugging Face's names.
  if (!options_.feedforward_modules && feedforward.empty()) feedforward = {"fc2", "down_proj"};
  for (const Site& site : sites) {
    auto adapter = std::make_shared<Ia3Adapter>(site, matches_module(site->site_name(), feedforward));
    site->attach(adapter);
    site_names_.push_back(site->site_name());
    adapters_.push_back(std::move(adapter));
  }
}

std::vector<TrainableTensor> Ia3::trainable_tensors() {
  std::vector<TrainableTensor> tensors;
  // Scales, not weights: decaying them would pull them to 0, not to the identity.
  for (std::size_t i = 0; i < adapters_.size(); ++i)
    tensors.push_back({site_names_[i] + ".ia3_l", adapters_[i]->ia3_l, false});
  return tensors;
}

void Ia3::merge() {
  for (auto& adapter : adapters_) adapter->merge();
}

void Ia3::unmerge() {
  for (auto& adapter : adapters_) adapter->unmerge();
}

std::string Ia3::adapter_config_json() const {
  std::vector<std::string> feedforward;
  for (std::size_t i = 0; i < adapters_.size(); ++i) {
    if (adapters_[i]->feedforward) feedforward.push_back(site_names_[i]);
  }
  // IA3Config's keys, in the order peft writes them; task_type, base_model_name_or_path and modules_to_save are
  // filled in by the host from the run.
  return JsonObject()
      .add("peft_type", "IA3")
      .add_null("task_type")
      .add("target_modules", site_names_)
      .add("feedforward_modules", feedforward)
      .add("fan_in_fan_out", false)
      .add("init_ia3_weights", true)
      .add("inference_mode", true)
      .add_null("modules_to_save")
      .add_null("base_model_name_or_path")
      .add_null("revision")
      .text();
}

}  // namespace peft::ia3
