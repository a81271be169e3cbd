#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "adapted_model.h"
#include "run_files.h"
#include "train/optimizer.h"

namespace peft {

/// Where training stands after a completed epoch, or after a step of an interrupted one: enough, with the model and
/// optimizer, to continue exactly.
struct TrainingProgress {
  /// Epochs completed.
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  /// Steps of epoch `epoch + 1` done (0 at an epoch boundary), and that epoch's running sums so far.
  std::int64_t step_in_epoch = 0;
  double epoch_loss_sum = 0.0;
  std::int64_t epoch_correct = 0;
  std::int64_t epoch_images = 0;
  /// Best evaluation so far (top-1 in [0, 1]; -1 before any) and its epoch.
  double best_top1 = -1.0;
  std::int64_t best_epoch = -1;
  /// Mean training loss of the last completed epoch.
  double last_train_loss = 0.0;
  /// Total training seconds so far (so that a resumed run reports the whole run's time).
  double train_seconds = 0.0;
};

/// One safetensors file: `model.<name>` (adapter tensors and head), `optimizer.<name>` and `rng.cpu` (LibTorch's
/// CPU generator), with the progress in its metadata. Written atomically.
void save_checkpoint(const std::filesystem::path& file, AdaptedModel& model, const Optimizer& optimizer,
                     const TrainingProgress& progress);

/// Restores what save_checkpoint wrote into `model`, `optimizer` and the CPU generator, and returns the progress.
TrainingProgress load_checkpoint(const std::filesystem::path& file, AdaptedModel& model, Optimizer& optimizer);

}  // namespace peft
