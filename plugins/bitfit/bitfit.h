#pragma once
// BitFit (Ben Zaken et al., 2022): only the biases of the selected Linear sites train (and the head).

#include <peft/method.h>

namespace peft::bitfit {

class BitFit final : public Method {
 public:
  /// Throws peft::Error when no selected site has a bias.
  void attach(Backbone& backbone, const std::vector<Site>& sites) override;
  std::vector<TrainableTensor> trainable_tensors() override { return biases_; }
  /// The biases are the backbone's own: training them is already merged.
  std::string merge_refusal() const override { return {}; }
  void merge() override {}
  void unmerge() override {}

 private:
  std::vector<TrainableTensor> biases_;
};

}  // namespace peft::bitfit
