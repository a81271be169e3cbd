#pragma once
// Mixed precision as torch.autocast does it: inside the scope, the operations autocast lists (matmuls, linear
// layers, convolutions) run in bf16 on the run's device while parameters, gradients and the optimizer's state stay
// float32; reductions and losses stay float32. The scope is the thread's: the forward pass and the loss run inside
// it, the backward pass follows the casts autograd recorded.

#include <ATen/core/Tensor.h>

#include <string>

#include "train/train_options.h"

namespace peft {

/// A one-line note when `precision` on `device` is slow here: bf16 on a CPU without AVX512-BF16 or AMX runs at a
/// fraction of float32's speed. Empty when there is nothing to say.
std::string mixed_precision_note(MixedPrecision precision, const at::Device& device);

class AutocastScope {
 public:
  AutocastScope(MixedPrecision precision, const at::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  at::DeviceType device_type_ = at::kCPU;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace peft
