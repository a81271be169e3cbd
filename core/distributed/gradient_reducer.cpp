#include "distributed/gradient_reducer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>

namespace peft {

GradientReducer::GradientReducer(std::vector<TrainableTensor> tensors, std::size_t bucket_bytes)
    : tensors_(std::move(tensors)) {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const at::Tensor& tensor = tensors_[i].tensor;
    const std::size_t size = static_cast<std::size_t>(tensor.numel()) * tensor.element_size();
    const bool same_kind =
        !buckets_.empty() && tensors_[buckets_.back().front()].tensor.options().type_equal(tensor.options());
    if (buckets_.empty() || !same_kind || bytes + size > bucket_bytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().push_back(i);
    bytes += size;
  }
}

StepShare GradientReducer::reduce(Communicator& communicator, const StepShare& mine) {
  const auto start = std::chrono::steady_clock::now();
  struct Timer {
    std::chrono::steady_clock::time_point start;
    double& total;
    ~Timer() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
  } timer{start, seconds_};
  at::NoGradGuard no_grad;
  // The shares and, per tensor, how many ranks have a gradient for it: one small collective first.
  std::vector<double> control{mine.weight, mine.loss_sum, mine.examples, mine.non_finite ? 1.0 : 0.0,
                              mine.interrupt ? 1.0 : 0.0};
  for (const auto& trainable : tensors_) control.push_back(trainable.tensor.grad().defined() ? 1.0 : 0.0);
  control = communicator.sum(std::move(control), "summing the step's losses");
  StepShare total{control[0], control[1], control[2], control[3] > 0.0, control[4] > 0.0};
  if (total.non_finite || total.weight <= 0.0) return total;

  std::vector<at::Tensor> flats;
  for (const auto& bucket : buckets_) {
    std::vector<at::Tensor> parts;
    for (const std::size_t i : bucket) {
      const at::Tensor& tensor = tensors_[i].tensor;
      const at::Tensor& grad = tensor.grad();
      parts.push_back(grad.defined() ? grad.reshape(-1) * mine.weight : at::zeros({tensor.numel()}, tensor.options()));
    }
    flats.push_back(at::cat(parts));
  }
  communicator.sum(flats, "summing the gradients");
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    std::int64_t offset = 0;
    flats[b].div_(total.weight);
    for (const std::size_t i : buckets_[b]) {
      at::Tensor& tensor = tensors_[i].tensor;
      const std::int64_t count = tensor.numel();
      // A view into the summed bucket, which it keeps alive: no copy per tensor per step.
      if (control[5 + i] > 0.0) tensor.mutable_grad() = flats[b].narrow(0, offset, count).view(tensor.sizes());
      offset += count;
    }
  }
  return total;
}

}  // namespace peft
