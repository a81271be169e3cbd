#include "train/evaluate.h"

#include <ATen/core/grad_mode.h>

namespace peft {

Evaluation evaluate(AdaptedModel& model, const Task& task, data::Loader& loader, const at::Device& device,
                    const EvaluationProgress& on_batch) {
  const std::int64_t batches = loader.batches_per_epoch();
  std::int64_t done = 0;
  at::NoGradGuard no_grad;
  model.train(false);
  loader.start_epoch(0);
  Tally tally;
  Evaluation result;
  while (auto batch = loader.next()) {
    const Batch on_device = batch->to(device);
    task.measure(model.forward(on_device), on_device, Pass::eval, tally);
    result.examples += on_device.size();
    if (on_batch) on_batch(++done, batches);
  }
  result.values = task.values(tally);
  return result;
}

}  // namespace peft
