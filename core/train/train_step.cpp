#include "train/train_step.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <optional>

#include "train/autocast.h"
#include "train/interrupt.h"

namespace peft {

void clip_gradients(const std::vector<TrainableTensor>& tensors, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (const auto& trainable : tensors) {
    if (trainable.tensor.grad().defined()) norms.push_back(trainable.tensor.grad().norm(2).to(at::kFloat));
  }
  if (norms.empty()) return;
  const double total = at::stack(norms).norm(2).item<double>();
  const double factor = max_norm / (total + 1e-6);
  if (factor >= 1.0) return;
  for (const auto& trainable : tensors) {
    if (trainable.tensor.grad().defined()) trainable.tensor.mutable_grad().mul_(factor);
  }
}

namespace {

// Divides every gradient by `weight`: the sum over micro-batches of (items x mean-loss gradient) becomes the
// gradient of the mean loss over all their items.
void divide_gradients(const std::vector<TrainableTensor>& tensors, double weight) {
  at::NoGradGuard no_grad;
  for (const auto& trainable : tensors) {
    if (trainable.tensor.grad().defined()) trainable.tensor.mutable_grad().div_(weight);
  }
}

}  // namespace

StepResult train_step(AdaptedModel& model, const Task& task, Optimizer& optimizer, const TrainOptions& options,
                      const std::vector<Batch>& parts, const at::Device& device, double lr, StepSync* sync) {
  StepResult result;
  optimizer.zero_grad();
  // One micro-batch backpropagates its mean loss as it is; several, each one's loss times its items, so that after
  // dividing by all their items the gradient is the whole batch's, whatever the micro-batches' sizes.
  const bool accumulates = parts.size() > 1;
  double loss_sum = 0.0;
  double weight = 0.0;
  double examples = 0.0;
  bool finite = true;
  Tally tally;
  for (const Batch& part : parts) {
    std::optional<AutocastScope> autocast(std::in_place, options.mixed_precision, device);
    const Outputs outputs = model.forward(part);
    Loss loss = task.loss(outputs, part, LossSettings{true, options.label_smoothing});
    autocast.reset();
    examples += static_cast<double>(part.size());
    if (loss.weight <= 0.0) continue;  // nothing to learn from (a causal-LM part of prompts only)
    if (const at::Tensor extra = model.method->extra_loss(); extra.defined()) loss.value = loss.value + extra;
    const double value = loss.value.item<double>();
    if (!std::isfinite(value)) {
      finite = false;
      result.loss = value;
      break;
    }
    loss_sum += value * loss.weight;
    weight += loss.weight;
    tally.add("loss", value * loss.weight, loss.weight);
    task.measure(outputs, part, Pass::train, tally);
    (accumulates ? loss.value * loss.weight : loss.value).backward();
  }
  if (accumulates && finite && weight > 0.0) divide_gradients(model.trainable, weight);
  if (sync != nullptr) {
    const StepShare total =
        sync->reducer.reduce(sync->communicator, {weight, loss_sum, examples, !finite, interrupt_requested()});
    result.interrupt = total.interrupt;
    result.examples = total.examples;
    if (total.non_finite) {
      result.loss = finite ? std::nan("") : result.loss;
      return result;
    }
    weight = total.weight;
    loss_sum = total.loss_sum;
  } else {
    if (!finite) return result;
    result.interrupt = interrupt_requested();
    result.examples = examples;
  }
  result.tally = std::move(tally);
  if (weight <= 0.0) return result;  // no item to learn from in the whole batch: no step
  result.loss = loss_sum / weight;
  result.weight = weight;
  if (options.grad_clip > 0.0) clip_gradients(model.trainable, options.grad_clip);
  optimizer.step(lr);
  return result;
}

}  // namespace peft
