#pragma once
// Image classification's [data] tables as the image task reads them.

#include <filesystem>
#include <memory>

#include "data/data_plan.h"
#include "data/data_table.h"
#include "data/image_dataset.h"
#include "peft/backbone.h"
#include "recipe.h"

namespace peft::test {

/// `table` checked against the loader's and image classification's keys, as the task's request, with
/// `preprocessing` (the caller keeps it alive; nullptr: the defaults) and `seed`.
inline DataRequest image_data_request(const RecipeTable& table, const std::filesystem::path& recipe_folder,
                                      const Preprocessing* preprocessing = nullptr, std::uint64_t seed = 0) {
  DataRequest request = data::read_data_table(table, data::image_data_option_specs(), recipe_folder, seed).request;
  request.preprocessing = preprocessing;
  return request;
}

/// A split as the image dataset the loader reads.
inline std::shared_ptr<data::ImageDataset> image_dataset(data::Split split, data::ImageOptions options = {}) {
  return std::make_shared<data::ImageDataset>(std::move(split), std::move(options));
}

}  // namespace peft::test
