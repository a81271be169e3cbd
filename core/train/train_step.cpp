#include "train/train_step.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

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

StepResult train_step(AdaptedModel& model, const Task& task, Optimizer& optimizer, const TrainOptions& options,
                      const Batch& batch, double lr, StepSync* sync) {
  StepResult result;
  const bool empty = batch.size() == 0;  // a rank's share of a last batch smaller than the world
  Outputs outputs;
  Loss loss;
  if (!empty) {
    outputs = model.forward(batch);
    loss = task.loss(outputs, batch, LossSettings{true, options.label_smoothing});
    if (const at::Tensor extra = model.method->extra_loss(); extra.defined()) loss.value = loss.value + extra;
    result.loss = loss.value.item<double>();
    result.weight = loss.weight;
  }
  const bool finite = std::isfinite(result.loss);
  if (sync == nullptr && !finite) return result;
  optimizer.zero_grad();
  if (!empty && finite) loss.value.backward();
  const double mine = result.loss;
  if (sync != nullptr) {
    const StepShare total =
        sync->reducer.reduce(sync->communicator, {result.weight, result.loss * result.weight,
                                                  static_cast<double>(batch.size()), !finite, interrupt_requested()});
    result.interrupt = total.interrupt;
    result.examples = total.examples;
    if (total.non_finite) {
      result.loss = finite ? std::nan("") : result.loss;
      return result;
    }
    result.loss = total.loss_sum / total.weight;
    result.weight = total.weight;
  } else {
    result.interrupt = interrupt_requested();
    result.examples = static_cast<double>(batch.size());
  }
  if (options.grad_clip > 0.0) clip_gradients(model.trainable, options.grad_clip);
  optimizer.step(lr);
  if (!empty) {
    result.tally.add("loss", mine * loss.weight, loss.weight);
    task.measure(outputs, batch, Pass::train, result.tally);
  }
  return result;
}

}  // namespace peft
