#include "train/train_step.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

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

StepResult train_step(AdaptedModel& model, const Task& task, Optimizer& optimizer, const TrainOptions& options,
                      const Batch& batch, double lr) {
  const Outputs outputs = model.forward(batch);
  Loss loss = task.loss(outputs, batch, LossSettings{true, options.label_smoothing});
  if (const at::Tensor extra = model.method->extra_loss(); extra.defined()) loss.value = loss.value + extra;
  StepResult result;
  result.loss = loss.value.item<double>();
  result.weight = loss.weight;
  if (!std::isfinite(result.loss)) return result;
  optimizer.zero_grad();
  loss.value.backward();
  if (options.grad_clip > 0.0) clip_gradients(model.trainable, options.grad_clip);
  optimizer.step(lr);
  result.tally.add("loss", result.loss * result.weight, result.weight);
  task.measure(outputs, batch, Pass::train, result.tally);
  return result;
}

}  // namespace peft
