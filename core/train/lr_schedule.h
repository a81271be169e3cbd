#pragma once

#include <cstdint>

#include "train/train_options.h"

namespace peft {

/// timm's CosineLRScheduler (warmup_prefix off, one cycle): linear warm-up from warmup_lr to lr over warmup_t, then
/// min_lr + (lr - min_lr) · (1 + cos(π t / t_total)) / 2 ("constant": lr after the warm-up). t counts epochs, or
/// steps when `schedule_step = "step"`.
class LrSchedule {
 public:
  LrSchedule(const TrainOptions& options, std::int64_t steps_per_epoch);

  /// The learning rate for a step of epoch `epoch` (0-based) that is the `global_step`-th update (0-based).
  double lr(std::int64_t epoch, std::int64_t global_step) const;

 private:
  double at(double t) const;

  TrainOptions options_;
  double t_total_;
  double warmup_t_;
  bool per_step_;
};

}  // namespace peft
