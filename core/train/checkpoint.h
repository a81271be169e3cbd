#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "adapted_model.h"
#include "run_files.h"
#include "train/optimizer.h"
#include "train/training_progress.h"

namespace peft {

/// One safetensors file: `model.<name>` (adapter tensors and head), `optimizer.<name>` and `rng.cpu` (LibTorch's
/// CPU generator), with the progress in its metadata. Written atomically.
void save_checkpoint(const std::filesystem::path& file, AdaptedModel& model, const Optimizer& optimizer,
                     const TrainingProgress& progress);

/// Restores what save_checkpoint wrote into `model`, `optimizer` and the CPU generator, and returns the progress.
TrainingProgress load_checkpoint(const std::filesystem::path& file, AdaptedModel& model, Optimizer& optimizer);

}  // namespace peft
