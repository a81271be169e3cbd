#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "adapted_model.h"
#include "data/loader.h"

namespace peft {

struct Evaluation {
  /// Fraction of images whose highest logit is their label.
  double top1 = 0.0;
  /// Mean cross-entropy (no label smoothing).
  double loss = 0.0;
  std::int64_t images = 0;
};

/// Called after each evaluation batch with (batches done, batches in all).
using EvaluationProgress = std::function<void(std::int64_t, std::int64_t)>;

/// Runs `model` in evaluation mode, without gradients, over one pass of `loader` (epoch 0) on `device`.
Evaluation evaluate(AdaptedModel& model, data::Loader& loader, const at::Device& device,
                    const EvaluationProgress& on_batch = {});

}  // namespace peft
