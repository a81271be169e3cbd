#pragma once
// Full fine-tuning: every backbone parameter trains (the upper reference).

#include <peft/method.h>

namespace peft::full {

class FullFineTuning final : public Method {
 public:
  /// Takes every parameter of `backbone` except its head (which the host trains as the head), marking the
  /// backbone's no-weight-decay parameters (position embedding, class token).
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override { return parameters_; }
  std::string merge_refusal() const override { return {}; }
  void merge() override {}
  void unmerge() override {}

 private:
  std::vector<TrainableTensor> parameters_;
};

}  // namespace peft::full
