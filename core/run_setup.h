#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapted_model.h"
#include "model_builder.h"
#include "recipe.h"
#include "task_setup.h"

namespace peft {

/// A recipe made ready to train or evaluate: threads and seed set, backbone built on its device, task chosen, head
/// fitted to the data, method attached.
struct PreparedRun {
  Recipe recipe;
  ChosenTask task;
  /// The data the recipe's [data] describes, read by the task (absent when prepared without data).
  std::optional<RunData> data;
  AdaptedModel model;
  std::int64_t num_classes = 0;
  at::Device device = at::kCPU;
  /// What building the backbone had to say (dropped heads, new heads).
  std::vector<std::string> notices;
  /// The safetensors file the backbone's weights came from (a hub folder's model.safetensors), if any.
  std::optional<std::filesystem::path> backbone_weights;
  /// The Hugging Face model folder the backbone was configured from, if any (BuiltBackbone::model_folder).
  std::optional<std::filesystem::path> model_folder;
};

/// "auto" → CUDA when LibTorch sees a GPU, else the CPU; "cuda" without a GPU is a peft::Error.
at::Device resolve_device(const std::string& device);

/// Whether prepare_run attaches the recipe's [method] or leaves the backbone as it loaded (`peft eval RECIPE`).
enum class WithMethod { yes, no };

/// Prepares `recipe`. `num_classes` replaces the data when given (merging needs no dataset; it sizes a new classifier
/// head); otherwise the recipe must have [data], whose splits the task reads here.
PreparedRun prepare_run(const Registry& registry, Recipe recipe, std::optional<std::int64_t> num_classes = std::nullopt,
                        WithMethod with_method = WithMethod::yes);

}  // namespace peft
