#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "adapted_model.h"
#include "data/loader.h"
#include "peft/task.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/progress.h"
#include "train/train_options.h"
#include "train/training_progress.h"

namespace peft {

/// What the training loop works with. The run folder gets `metrics.jsonl` records and, after each epoch, the
/// checkpoint.
struct TrainerSetup {
  AdaptedModel* model = nullptr;
  const Task* task = nullptr;
  data::Loader* train_loader = nullptr;
  data::Loader* eval_loader = nullptr;
  std::string eval_split;
  TrainOptions options;
  at::Device device = at::kCPU;
  std::filesystem::path folder;
  bool write_checkpoints = true;
  /// Also keep the adapter after every epoch, and before the first (save_epoch_adapter).
  bool keep_epochs = false;
  /// Stop (with a checkpoint) once this many epochs are complete, to resume later.
  std::optional<std::int64_t> stop_after_epochs;
  Progress* progress = nullptr;
  /// Data parallelism: the loaders make this rank's share of each batch, the gradients and metrics are summed
  /// over the ranks, and only the rank with `writes` writes the run folder (metrics, checkpoints, adapters).
  Communicator* communicator = nullptr;
  bool writes = true;
};

struct TrainOutcome {
  TrainingProgress progress;
  /// The last evaluation and its epoch (1-based; 0 when none ran).
  Evaluation last_eval;
  std::int64_t last_eval_epoch = 0;
  /// Training examples per second over this session's steps (all ranks together).
  double examples_per_s = 0.0;
  /// Data parallelism: seconds of this session's steps spent summing the gradients over the ranks.
  double all_reduce_seconds = 0.0;
  /// True when stop_after_epochs ended the run before its last epoch.
  bool stopped = false;
};

/// Trains from `start` (a fresh TrainingProgress, or one read back from a checkpoint) to the last epoch: AdamW or
/// SGD, warm-up + cosine schedule per epoch or step, label smoothing, gradient clipping, the method's extra loss,
/// evaluation every `eval_every` epochs, the best epoch by the task's primary metric. A non-finite loss stops with a
/// peft::Error naming the epoch and step; the last checkpoint on disk is then the last good one. A signal stops after
/// the current step with a checkpoint there (Interrupted).
TrainOutcome train(const TrainerSetup& setup, Optimizer& optimizer, TrainingProgress start);

}  // namespace peft
