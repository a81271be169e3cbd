#include "lora.h"

#include <peft/backbone.h>
#include <peft/strings.h>

#include <sstream>

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

std::string Lora::adapter_config_json() const {
  // The keys of peft's LoraConfig (as its adapter_config.json files carry them); target_modules are the full site
  // names, which peft matches exactly.
  std::ostringstream json;
  json.precision(17);
  json << "{\"peft_type\": \"LORA\", \"task_type\": null, \"r\": " << options_.r
       << ", \"lora_alpha\": " << options_.lora_alpha << ", \"lora_dropout\": " << options_.lora_dropout
       << ", \"use_rslora\": " << (options_.use_rslora ? "true" : "false") << ", \"target_modules\": [";
  for (std::size_t i = 0; i < site_names_.size(); ++i) json << (i ? ", " : "") << '"' << site_names_[i] << '"';
  json << "], \"bias\": \"none\", \"fan_in_fan_out\": false, \"init_lora_weights\": true, \"inference_mode\": true"
       << ", \"modules_to_save\": null, \"layers_to_transform\": null, \"layers_pattern\": null"
       << ", \"rank_pattern\": {}, \"alpha_pattern\": {}, \"use_dora\": false, \"base_model_name_or_path\": null"
       << ", \"revision\": null}";
  return json.str();
}

}  // namespace peft::lora
