#pragma once
// Data parallelism's step: after each rank's backward on its share of the global batch, the trainable tensors'
// gradients are summed over ranks in flat buckets (one collective each, as PyTorch's DistributedDataParallel
// does) and divided so that the result is the gradient of the whole global batch's loss.

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <vector>

#include "distributed/communicator.h"
#include "peft/method.h"

namespace peft {

/// What one rank brings to a step, and after reduce() what all ranks brought together.
struct StepShare {
  /// The items (examples, target tokens) its loss is a mean over, and that loss times them.
  double weight = 0.0;
  double loss_sum = 0.0;
  /// Examples in its share of the batch.
  double examples = 0.0;
  /// Its loss was not finite (the step is then skipped on every rank).
  bool non_finite = false;
  /// A signal asked it to stop (every rank then stops after this step).
  bool interrupt = false;
};

class GradientReducer {
 public:
  /// Buckets of at most `bucket_bytes` (a tensor larger than that is a bucket of its own), in the tensors' order.
  GradientReducer(std::vector<TrainableTensor> tensors, std::size_t bucket_bytes = kDefaultBucketBytes);

  /// Every rank's share summed; unless one was not finite, each tensor's gradient becomes Σ_r w_r g_r / Σ_r w_r
  /// (g_r: its gradient of rank r's mean loss over w_r items), defined where any rank's was.
  StepShare reduce(Communicator& communicator, const StepShare& mine);

  std::size_t buckets() const { return buckets_.size(); }
  /// Wall seconds spent in reduce() so far: the communication's cost (and the wait for slower ranks).
  double seconds() const { return seconds_; }

  /// PyTorch DDP's default bucket_cap_mb.
  static constexpr std::size_t kDefaultBucketBytes = 25u << 20;

 private:
  std::vector<TrainableTensor> tensors_;
  /// Each bucket: the indices of its tensors.
  std::vector<std::vector<std::size_t>> buckets_;
  double seconds_ = 0.0;
};

}  // namespace peft
