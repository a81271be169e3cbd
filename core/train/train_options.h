#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "peft/options.h"

namespace peft {

/// [train] mixed_precision: "no" (float32 throughout) or "bf16" (train/autocast.h).
enum class MixedPrecision { no, bf16 };

MixedPrecision mixed_precision_from(const std::string& name);

struct RecipeTable;

/// The `[train]` table: optimiser, schedule, loss and evaluation settings, with timm-like defaults.
struct TrainOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 32;
  /// Gradient accumulation: each step's batch (a rank's share of it) goes through forward and backward in this many
  /// micro-batches, one at a time, and the optimizer steps once on their summed gradient: the step of the whole
  /// batch, in about a K-th of the activation memory (DeepSpeed's relation: batch_size = micro-batch x steps x ranks).
  std::int64_t gradient_accumulation_steps = 1;
  /// Examples per evaluation batch (in a data-parallel run the global one, shared among the ranks); 0: the training
  /// micro-batch, batch_size / gradient_accumulation_steps rounded up, so that evaluation fits where training does.
  std::int64_t eval_batch_size = 0;
  /// "adamw" or "sgd" (with momentum).
  std::string optimizer = "adamw";
  double lr = 1e-3;
  double weight_decay = 1e-4;
  /// SGD momentum.
  double momentum = 0.9;
  /// AdamW betas and epsilon.
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  /// "cosine" (linear warm-up, then cosine to min_lr) or "constant" (warm-up, then lr).
  std::string schedule = "cosine";
  /// "epoch": the learning rate changes once per epoch (timm's default); "step": every step.
  std::string schedule_step = "epoch";
  std::int64_t warmup_epochs = 0;
  double warmup_lr = 1e-7;
  double min_lr = 1e-6;
  double label_smoothing = 0.0;
  /// Gradient clipping by global norm; 0 = off.
  double grad_clip = 0.0;
  /// Evaluate every N epochs (and always after the last); 0 = only after the last.
  std::int64_t eval_every = 1;
  /// A metrics.jsonl record every N steps.
  std::int64_t log_every = 20;
  /// Data parallelism's process group: "auto" (NCCL when each process has a GPU of its own and peft has NCCL,
  /// else Gloo), "gloo" or "nccl" (resolve_backend, distributed/communicator.h).
  std::string distributed_backend = "auto";
  /// The forward pass and the loss in float32, or under bf16 autocast (train/autocast.h).
  MixedPrecision mixed_precision = MixedPrecision::no;
  /// Seconds a rank waits for the others in a collective before the run ends with an error.
  std::int64_t distributed_timeout = 1800;

  /// eval_batch_size, or the training micro-batch when that is 0.
  std::int64_t evaluation_batch_size() const {
    return eval_batch_size > 0 ? eval_batch_size
                               : (batch_size + gradient_accumulation_steps - 1) / gradient_accumulation_steps;
  }
};

/// Where a run writes (`[output]`).
struct OutputOptions {
  /// The run folder; relative to the working directory. Default: runs/<recipe name>.
  std::string dir;
  /// Write a resumable checkpoint after every epoch.
  bool checkpoint = true;
  /// Keep the adapter after every epoch (and before the first) in `epochs/`, for `peft explain --epochs`.
  bool keep_epochs = false;
};

const std::vector<OptionSpec>& train_option_specs();
const std::vector<OptionSpec>& output_option_specs();

/// Checks the `[train]` table: unknown keys, types and ranges, each error naming the file, line, key and what is
/// allowed.
TrainOptions read_train_options(const RecipeTable& table);
OutputOptions read_output_options(const RecipeTable& table);

}  // namespace peft
