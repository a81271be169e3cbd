#include "train/evaluate.h"

#include <ATen/core/grad_mode.h>

namespace peft {

Evaluation evaluate(AdaptedModel& model, const Task& task, data::Loader& loader, const at::Device& device,
                    MixedPrecision precision, const EvaluationProgress& on_batch, Communicator* communicator) {
  const std::int64_t batches = loader.batches_per_epoch();
  std::int64_t done = 0;
  at::NoGradGuard no_grad;
  model.train(false);
  loader.start_epoch(0);
  Tally tally;
  Evaluation result;
  while (auto batch = loader.next()) {
    if (batch->size() > 0) {  // a rank's share of a last batch smaller than the world can be empty
      const Batch on_device = batch->to(device);
      const AutocastScope autocast(precision, device);
      task.measure(model.forward(on_device), on_device, Pass::eval, tally);
      result.examples += on_device.size();
    }
    if (on_batch) on_batch(++done, batches);
  }
  if (communicator != nullptr) {
    tally = communicator->sum(tally, "summing the evaluation");
    result.examples = static_cast<std::int64_t>(
        communicator->sum(std::vector<double>{static_cast<double>(result.examples)}, "summing the evaluation")[0]);
  }
  result.values = task.values(tally);
  return result;
}

}  // namespace peft
