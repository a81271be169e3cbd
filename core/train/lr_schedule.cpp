#include "train/lr_schedule.h"

#include <cmath>

namespace peft {

LrSchedule::LrSchedule(const TrainOptions& options, std::int64_t steps_per_epoch)
    : options_(options), per_step_(options.schedule_step == "step") {
  const double unit = per_step_ ? static_cast<double>(steps_per_epoch) : 1.0;
  t_total_ = static_cast<double>(options.epochs) * unit;
  warmup_t_ = static_cast<double>(options.warmup_epochs) * unit;
}

double LrSchedule::lr(std::int64_t epoch, std::int64_t global_step) const {
  return at(static_cast<double>(per_step_ ? global_step : epoch));
}

double LrSchedule::at(double t) const {
  if (t < warmup_t_) return options_.warmup_lr + t * (options_.lr - options_.warmup_lr) / warmup_t_;
  if (options_.schedule == "constant") return options_.lr;
  if (t >= t_total_) return options_.min_lr;
  const double pi = std::acos(-1.0);
  return options_.min_lr + 0.5 * (options_.lr - options_.min_lr) * (1.0 + std::cos(pi * t / t_total_));
}

}  // namespace peft
