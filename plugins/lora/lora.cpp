#include "lora.h"

#include <peft/backbone.h>
#include <peft/error.h>
#include <peft/lora_config.h>
#include <peft/strings.h>

#include <algorithm>

namespace peft::lora {

namespace {

// Refuses a rank_pattern or alpha_pattern entry that names none of `sites`: a typo would leave r or lora_alpha.
template <class Value>
void check_each_names_a_site(const std::vector<std::pair<std::string, Value>>& patterns, const std::string& key,
                             const std::vector<Site>& sites) {
  for (const auto& pattern : patterns) {
    const std::string& module = pattern.first;  // a name of its own: a lambda cannot capture a structured binding
    const bool named = std::any_of(sites.begin(), sites.end(),
                                   [&](const Site& site) { return names_module(site->site_name(), module); });
    if (!named) throw Error("lora", key + " entry '" + module + "' names none of the selected sites");
  }
}

}  // namespace

void Lora::attach(Backbone&, const std::vector<Site>& sites) {
  check_each_names_a_site(options_.ranks(), "rank_pattern", sites);
  check_each_names_a_site(options_.alphas(), "alpha_pattern", sites);
  for (const Site& site : sites) {
    const std::string& name = site->site_name();
    auto adapter = std::make_shared<LoraAdapter>(site, options_.rank_of(name), options_.scale_of(name),
                                                 options_.lora_dropout, training_, options_.use_dora);
    site->attach(adapter);
    site_names_.push_back(site->site_name());
    adapters_.push_back(std::move(adapter));
  }
}

std::vector<TrainableTensor> Lora::trainable_tensors() {
  std::vector<TrainableTensor> tensors;
  for (std::size_t i = 0; i < adapters_.size(); ++i) {
    tensors.push_back({site_names_[i] + ".lora_A.weight", adapters_[i]->lora_a});
    tensors.push_back({site_names_[i] + ".lora_B.weight", adapters_[i]->lora_b});
    // Hugging Face peft's key; a scale, not a weight to decay toward zero.
    if (options_.use_dora)
      tensors.push_back({site_names_[i] + ".lora_magnitude_vector", adapters_[i]->magnitude, false});
  }
  return tensors;
}

void Lora::train(Backbone& backbone, bool training) {
  Method::train(backbone, training);
  *training_ = training;
}

void Lora::merge() {
  for (auto& adapter : adapters_) adapter->merge();
}

void Lora::unmerge() {
  for (auto& adapter : adapters_) adapter->unmerge();
}

std::vector<LowRankDelta> Lora::low_rank_deltas() {
  std::vector<LowRankDelta> deltas;
  if (options_.use_dora) return deltas;  // DoRA rescales W's rows: not W + B A
  for (std::size_t i = 0; i < adapters_.size(); ++i) {
    const auto& adapter = *adapters_[i];
    deltas.push_back({site_names_[i], adapter.lora_b.detach().to(torch::kFloat32) * adapter.scale(),
                      adapter.lora_a.detach().to(torch::kFloat32)});
  }
  return deltas;
}

std::string Lora::adapter_config_json() const {
  return lora_config_json({options_.r, options_.lora_alpha, options_.lora_dropout, options_.use_rslora, site_names_,
                           options_.use_dora, options_.ranks(), options_.alphas()});
}

}  // namespace peft::lora
