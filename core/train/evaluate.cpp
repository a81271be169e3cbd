#include "train/evaluate.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace peft {

Evaluation evaluate(AdaptedModel& model, data::Loader& loader, const at::Device& device,
                    const EvaluationProgress& on_batch) {
  const std::int64_t batches = loader.batches_per_epoch();
  std::int64_t done = 0;
  at::NoGradGuard no_grad;
  model.train(false);
  loader.start_epoch(0);
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  Evaluation result;
  while (auto batch = loader.next()) {
    const Batch on_device = batch->to(device);
    const at::Tensor& labels = on_device.at(keys::labels);
    const at::Tensor logits = model.logits(on_device);
    loss_sum += at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
    result.images += labels.size(0);
    if (on_batch) on_batch(++done, batches);
  }
  if (result.images > 0) {
    result.top1 = static_cast<double>(correct) / static_cast<double>(result.images);
    result.loss = loss_sum / static_cast<double>(result.images);
  }
  return result;
}

}  // namespace peft
