#pragma once
// Linear probing: the backbone stays frozen and only its classifier head trains (the lower reference).

#include <peft/method.h>

namespace peft::linear_probe {

class LinearProbe final : public Method {
 public:
  bool uses_sites() const override { return false; }
  void attach(Backbone&, const std::vector<Site>&) override {}
  std::vector<TrainableTensor> trainable_tensors() override { return {}; }
  /// Only the head changes, and the head is saved with the backbone: nothing to fold.
  std::string merge_refusal() const override { return {}; }
  void merge() override {}
  void unmerge() override {}
};

}  // namespace peft::linear_probe
