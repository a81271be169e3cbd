#pragma once
// LoRA (Hu et al., 2021): ΔW = s · B A on every selected Linear site, as Hugging Face peft implements it.

#include <peft/method.h>

#include <memory>
#include <vector>

#include "lora_adapter.h"
#include "lora_options.h"

namespace peft::lora {

class Lora final : public Method {
 public:
  explicit Lora(LoraOptions options) : options_(options) {}

  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override;
  void train(Backbone& backbone, bool training) override;
  std::string merge_refusal() const override { return {}; }
  void merge() override;
  void unmerge() override;
  /// s·B and A of every site, in float32.
  std::vector<LowRankDelta> low_rank_deltas() override;
  /// Hugging Face peft's LoraConfig for the attached sites.
  std::string adapter_config_json() const override;

 private:
  LoraOptions options_;
  std::shared_ptr<bool> training_ = std::make_shared<bool>(false);
  std::vector<std::string> site_names_;
  std::vector<std::shared_ptr<LoraAdapter>> adapters_;
};

}  // namespace peft::lora
