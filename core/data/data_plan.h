#pragma once
// The `[data]` table of image classification: which image dataset, its splits, and how its images are prepared.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_dataset.h"
#include "peft/options.h"
#include "peft/task.h"

namespace peft::data {

/// The `[data]` keys of image classification: format, root, splits, transforms, image loading.
const std::vector<OptionSpec>& image_data_option_specs();

/// The splits an image `[data]` table describes and how each is prepared.
struct DataPlan {
  Split train;
  Split eval;
  std::string train_split;
  std::string eval_split;
  ImageOptions train_images;
  ImageOptions eval_images;
  /// What the user should know about how the data was read (a class count inferred from the labels).
  std::vector<std::string> notices;
};

/// What an image `[data]` table says, checked, without touching the file system.
struct DataSettings {
  std::string format;
  std::filesystem::path root;
  std::optional<std::int64_t> num_classes;
  std::optional<std::filesystem::path> image_root;
  /// Images the split files place outside `root` are read instead of refused.
  bool allow_outside_root = false;
  std::string train_split;
  std::string eval_split;
  ImageOptions train_images;
  ImageOptions eval_images;
};

/// Checks every value of the request's options and fills in the format's defaults (below), with the backbone's
/// preprocessing (Preprocessing{} when the request has none); a bad value is a peft::Error naming the file, line and
/// key. Nothing is read from disk.
DataSettings data_settings(const DataRequest& request);

/// Reads the splits (paths relative to the recipe's folder) and the transforms of each, with the benchmark's
/// defaults for the format (VTAB: resize straight to the model size, bilinear, no augmentation; FGVC and
/// ImageFolder: shorter side to 256/224 of the size, random crop and flip for training, centre crop for evaluation)
/// and the backbone's image size, mean and std unless the table sets them. Errors name the file, line and key.
DataPlan plan_data(const DataRequest& request);

}  // namespace peft::data
