#include "lora.h"

#include <peft/backbone.h>
#include <peft/lora_config.h>
#include <peft/strings.h>

namespace peft::lora {

void Lora::attach(Backbone&, const std::vector<Site>& sites) {
  for (Site site : sites) {  // a copy of the holder: attaching changes the site
    auto adapter = std::make_shared<LoraAdapter>(site, options_.r, options_.scale(), options_.lora_dropout, training_);
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
  for (std::size_t i = 0; i < adapters_.size(); ++i) {
    const auto& adapter = *adapters_[i];
    deltas.push_back({site_names_[i], adapter.lora_b.detach().to(torch::kFloat32) * options_.scale(),
                      adapter.lora_a.detach().to(torch::kFloat32)});
  }
  return deltas;
}

std::string Lora::adapter_config_json() const {
  return lora_config_json({options_.r, options_.lora_alpha, options_.lora_dropout, options_.use_rslora, site_names_});
}

}  // namespace peft::lora
