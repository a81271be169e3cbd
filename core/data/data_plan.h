#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "peft/backbone.h"
#include "peft/options.h"
#include "recipe.h"

namespace peft::data {

/// The keys of a recipe's `[data]` table: format, root, splits, transforms, loader settings.
const std::vector<OptionSpec>& data_option_specs();

/// The splits and loader settings a `[data]` table describes.
struct DataPlan {
  Split train;
  Split eval;
  std::string train_split;
  std::string eval_split;
  LoaderOptions train_loader;
  LoaderOptions eval_loader;
  /// What the user should know about how the data was read (a class count inferred from the labels).
  std::vector<std::string> notices;
};

/// What a `[data]` table says, checked, without touching the file system.
struct DataSettings {
  std::string format;
  std::filesystem::path root;
  std::optional<std::int64_t> num_classes;
  std::optional<std::filesystem::path> image_root;
  /// Images the split files place outside `root` are read instead of refused.
  bool allow_outside_root = false;
  std::string train_split;
  std::string eval_split;
  LoaderOptions train_loader;
  LoaderOptions eval_loader;
};

/// Checks every value of the `[data]` table and fills in the format's defaults (below); a bad value is a peft::Error
/// naming the file, line and key. Nothing is read from disk.
DataSettings data_settings(const RecipeTable& table, const std::filesystem::path& recipe_folder,
                           const Preprocessing& defaults, std::uint64_t seed, std::int64_t batch_size);

/// Reads the `[data]` table: its splits (paths relative to `recipe_folder`) and the transforms of each, with the
/// benchmark's defaults for the format (VTAB: resize straight to the model size, bilinear, no augmentation; FGVC and
/// ImageFolder: shorter side to 256/224 of the size, random crop and flip for training, centre crop for evaluation)
/// and the backbone's image size, mean and std unless the table sets them. Errors name the file, line and key.
DataPlan plan_data(const RecipeTable& table, const std::filesystem::path& recipe_folder, const Preprocessing& defaults,
                   std::uint64_t seed, std::int64_t batch_size);

}  // namespace peft::data
