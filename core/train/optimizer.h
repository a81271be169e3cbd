#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "peft/method.h"
#include "peft/named_tensors.h"
#include "train/train_options.h"

namespace peft {

/// AdamW or SGD with momentum, with PyTorch's update rules, over named tensors, so that its state saves by name.
/// Weight decay applies to tensors marked `decay` with two or more dimensions (never biases or other 1-D tensors).
class Optimizer {
 public:
  Optimizer(const TrainOptions& options, const std::vector<TrainableTensor>& tensors);

  void zero_grad();
  /// One update with learning rate `lr`; tensors without a gradient are left alone.
  void step(double lr);

  /// `<name>.exp_avg`, `<name>.exp_avg_sq` (AdamW) or `<name>.momentum_buffer` (SGD), and `step`.
  NamedTensors state() const;
  /// Restores `state()`; a missing or mis-shaped entry is a peft::Error naming `source`.
  void load_state(const NamedTensors& state, const std::string& source);

  std::int64_t steps() const { return steps_; }
  /// Tensors that take weight decay / that do not.
  std::int64_t decayed_count() const;
  std::int64_t undecayed_count() const;

 private:
  struct Slot {
    std::string name;
    at::Tensor tensor;
    bool decay;
    at::Tensor first;   // exp_avg or momentum_buffer
    at::Tensor second;  // exp_avg_sq (AdamW)
  };

  TrainOptions options_;
  std::vector<Slot> slots_;
  std::int64_t steps_ = 0;
};

}  // namespace peft
