#pragma once

#include "adapted_model.h"
#include "peft/task.h"
#include "train/optimizer.h"
#include "train/train_options.h"

namespace peft {

/// What one optimisation step measured.
struct StepResult {
  /// The objective it stepped on (the task's loss with label smoothing, plus the method's extra loss), and the
  /// items it is a mean over.
  double loss = 0.0;
  double weight = 0.0;
  /// The batch's training metrics: the task's (Pass::train) and `loss` as above.
  Tally tally;
};

/// Sets all gradients to `factor` of themselves when their global 2-norm exceeds `max_norm` (PyTorch's
/// clip_grad_norm_ with its 1e-6).
void clip_gradients(const std::vector<TrainableTensor>& tensors, double max_norm);

/// One step on `batch` (on the model's device): forward, the task's loss, backward, gradient clipping, the
/// optimizer at `lr`. A non-finite loss returns before backward with `loss` set to it, the tensors untouched.
StepResult train_step(AdaptedModel& model, const Task& task, Optimizer& optimizer, const TrainOptions& options,
                      const Batch& batch, double lr);

}  // namespace peft
