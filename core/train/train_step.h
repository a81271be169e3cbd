#pragma once

#include "adapted_model.h"
#include "distributed/gradient_reducer.h"
#include "peft/task.h"
#include "train/optimizer.h"
#include "train/train_options.h"

namespace peft {

/// What one optimisation step measured.
struct StepResult {
  /// The objective it stepped on (the task's loss with label smoothing, plus the method's extra loss), and the
  /// items it is a mean over: over the whole global batch, in a data-parallel run too.
  double loss = 0.0;
  double weight = 0.0;
  /// Examples in the step (the global batch's).
  double examples = 0.0;
  /// This process's share of the batch's training metrics: the task's (Pass::train) and `loss` as above.
  Tally tally;
  /// A signal asked to stop (in a data-parallel run: any rank's), so the step is the last.
  bool interrupt = false;
};

/// Sets all gradients to `factor` of themselves when their global 2-norm exceeds `max_norm` (PyTorch's
/// clip_grad_norm_ with its 1e-6).
void clip_gradients(const std::vector<TrainableTensor>& tensors, double max_norm);

/// A data-parallel step's collectives.
struct StepSync {
  Communicator& communicator;
  GradientReducer& reducer;
};

/// One step on a batch given as its micro-batches `parts` (on the model's device, `device`; one for a step without
/// gradient accumulation): forward and the task's loss (under bf16 autocast when options.mixed_precision says so),
/// and backward of each in turn, gradient clipping, the optimizer at `lr`.
/// The gradient is that of the mean loss over all the parts' items, the loss reported likewise. A part whose loss
/// counts no item (a causal-LM part of prompts only) is left out; a batch without any makes no step. A non-finite
/// loss returns before the update with `loss` set to it, the tensors untouched. With `sync`, `parts` are this rank's
/// share of the global batch (possibly none): the gradients are reduced over the ranks before clipping
/// (gradient_reducer.h), so every rank takes the same step; a non-finite loss on any rank skips the update on all.
StepResult train_step(AdaptedModel& model, const Task& task, Optimizer& optimizer, const TrainOptions& options,
                      const std::vector<Batch>& parts, const at::Device& device, double lr, StepSync* sync = nullptr);

}  // namespace peft
