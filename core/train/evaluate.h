#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "adapted_model.h"
#include "data/loader.h"
#include "distributed/communicator.h"
#include "peft/task.h"
#include "train/autocast.h"

namespace peft {

/// One pass over an evaluation split: the task's metric values and how many examples they cover.
struct Evaluation {
  MetricValues values;
  std::int64_t examples = 0;

  /// The value of `name` (0 when the task does not report it).
  double value(const std::string& name) const { return metric_value(values, name).value_or(0.0); }
};

/// Called after each evaluation batch with (batches done, batches in all).
using EvaluationProgress = std::function<void(std::int64_t, std::int64_t)>;

/// Runs `model` in evaluation mode, without gradients (under bf16 autocast with MixedPrecision::bf16, as the run
/// trained), over one pass of `loader` (epoch 0) on `device`, measuring
/// each batch with `task` (Pass::eval). With `communicator`, `loader` makes this rank's share of each batch and the
/// sums of every rank's measurements are the result (on every rank).
Evaluation evaluate(AdaptedModel& model, const Task& task, data::Loader& loader, const at::Device& device,
                    MixedPrecision precision, const EvaluationProgress& on_batch = {},
                    Communicator* communicator = nullptr);

}  // namespace peft
