#include "data/image_dataset.h"

#include <ATen/ATen.h>

#include "data/image_io.h"
#include "peft/error.h"

namespace peft::data {

ImageDataset::ImageDataset(Split split, ImageOptions options) : split_(std::move(split)), options_(std::move(options)) {
  if (options_.on_bad_image != "error" && options_.on_bad_image != "skip") {
    throw Error("data", "data.on_bad_image = '" + options_.on_bad_image + "', expected error or skip");
  }
  validate(options_.transform);
  if (options_.cache) cache_.resize(split_.samples.size());
}

at::Tensor ImageDataset::load_image(std::size_t index) {
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_[index].defined()) return cache_[index];
  }
  at::Tensor image = decode_image(split_.samples[index].image);
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[index] = image;
  }
  return image;
}

std::optional<Batch> ImageDataset::example(std::int64_t index, std::int64_t epoch) {
  const auto item = static_cast<std::size_t>(index);
  at::Tensor image;
  try {
    image = load_image(item);
  } catch (const Error&) {
    if (options_.on_bad_image == "error") throw;
    ++skipped_;
    return std::nullopt;
  }
  Random random = Random::for_item(options_.seed, static_cast<std::uint64_t>(epoch) + 1, item);
  return Batch{{keys::images, apply_transforms(image, options_.transform, random)},
               {keys::labels, at::scalar_tensor(split_.samples[item].label, at::kLong)}};
}

Batch ImageDataset::collate(std::vector<Batch> examples) const {
  if (!examples.empty()) return stack_examples(examples);
  const std::int64_t size = options_.transform.image_size;
  return {{keys::images, at::empty({0, 3, size, size})}, {keys::labels, at::empty({0}, at::kLong)}};
}

}  // namespace peft::data
