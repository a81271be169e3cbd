#include "train/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "peft/error.h"

namespace peft {

Optimizer::Optimizer(const TrainOptions& options, const std::vector<TrainableTensor>& tensors) : options_(options) {
  for (const auto& trainable : tensors) {
    Slot slot{trainable.name, trainable.tensor, trainable.decay && trainable.tensor.dim() >= 2, {}, {}};
    slot.first = at::zeros_like(trainable.tensor, at::MemoryFormat::Contiguous);
    if (options_.optimizer == "adamw") slot.second = at::zeros_like(trainable.tensor, at::MemoryFormat::Contiguous);
    slots_.push_back(std::move(slot));
  }
}

void Optimizer::zero_grad() {
  for (auto& slot : slots_) {
    if (slot.tensor.grad().defined()) slot.tensor.mutable_grad() = at::Tensor();
  }
}

void Optimizer::step(double lr) {
  at::NoGradGuard no_grad;
  ++steps_;
  const double wd = options_.weight_decay;
  if (options_.optimizer == "adamw") {
    const double b1 = options_.beta1;
    const double b2 = options_.beta2;
    const double correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
    const double correction2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(steps_)));
    for (auto& slot : slots_) {
      const at::Tensor& grad = slot.tensor.grad();
      if (!grad.defined()) continue;
      if (slot.decay && wd != 0.0) slot.tensor.mul_(1.0 - lr * wd);
      slot.first.mul_(b1).add_(grad, 1.0 - b1);
      slot.second.mul_(b2).addcmul_(grad, grad, 1.0 - b2);
      const at::Tensor denom = (slot.second.sqrt() / correction2_sqrt).add_(options_.eps);
      slot.tensor.addcdiv_(slot.first, denom, -lr / correction1);
    }
    return;
  }
  for (auto& slot : slots_) {
    const at::Tensor& grad = slot.tensor.grad();
    if (!grad.defined()) continue;
    at::Tensor update = slot.decay && wd != 0.0 ? grad.add(slot.tensor, wd) : grad;
    if (options_.momentum != 0.0) {
      // PyTorch starts the buffer at the first gradient; from zeros, momentum · 0 + g is the same.
      slot.first.mul_(options_.momentum).add_(update);
      update = slot.first;
    }
    slot.tensor.add_(update, -lr);
  }
}

NamedTensors Optimizer::state() const {
  NamedTensors state;
  state.emplace_back("step", at::scalar_tensor(steps_, at::kLong));
  for (const auto& slot : slots_) {
    if (options_.optimizer == "adamw") {
      state.emplace_back(slot.name + ".exp_avg", slot.first);
      state.emplace_back(slot.name + ".exp_avg_sq", slot.second);
    } else {
      state.emplace_back(slot.name + ".momentum_buffer", slot.first);
    }
  }
  return state;
}

void Optimizer::load_state(const NamedTensors& state, const std::string& source) {
  at::Tensor step = at::zeros({}, at::kLong);
  NamedTensors targets = this->state();
  targets.front().second = step;
  copy_named_tensors(targets, state, "checkpoint", source + ": the optimizer state does not fit",
                     "was the checkpoint written by another recipe?");
  steps_ = step.item<std::int64_t>();
}

std::int64_t Optimizer::decayed_count() const {
  std::int64_t total = 0;
  for (const auto& slot : slots_) total += slot.decay ? slot.tensor.numel() : 0;
  return total;
}

std::int64_t Optimizer::undecayed_count() const {
  std::int64_t total = 0;
  for (const auto& slot : slots_) total += slot.decay ? 0 : slot.tensor.numel();
  return total;
}

}  // namespace peft
