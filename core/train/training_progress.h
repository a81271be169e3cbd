#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "peft/task.h"

namespace peft {

/// Where training stands after a completed epoch, or after a step of an interrupted one: enough, with the model,
/// the optimizer and the generator, to continue exactly.
struct TrainingProgress {
  /// Epochs completed.
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  /// Steps of epoch `epoch + 1` done (0 at an epoch boundary), and that epoch's running metric sums so far.
  std::int64_t step_in_epoch = 0;
  Tally epoch_tally;
  /// Best evaluation of the task's primary metric so far, and its epoch (-1 before any).
  std::optional<double> best_value;
  std::int64_t best_epoch = -1;
  /// Mean training loss of the last completed epoch.
  double last_train_loss = 0.0;
  /// Total training seconds so far (so that a resumed run reports the whole run's time).
  double train_seconds = 0.0;
};

/// The progress as text fields (a checkpoint's metadata), numbers written to read back exactly.
std::map<std::string, std::string> progress_fields(const TrainingProgress& progress);

/// What progress_fields wrote, read back; checkpoints of earlier versions (best_top1, epoch_correct, ...) read as
/// image classification's top1 and loss. A missing or unreadable field is a peft::Error naming `source`.
TrainingProgress progress_from_fields(const std::map<std::string, std::string>& fields, const std::string& source);

}  // namespace peft
