#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "peft/dataset.h"

namespace peft::data {

/// How the images of one split are read and prepared.
struct ImageOptions {
  TransformOptions transform;
  /// Augmentation is a function of (seed, epoch, sample): the same for the same seed, whatever thread reads it.
  std::uint64_t seed = 0;
  /// Keep decoded images in memory after their first use (small splits).
  bool cache = false;
  /// "error": a missing or corrupt image stops with its path; "skip": it is left out and counted.
  std::string on_bad_image = "error";
};

/// A split of labelled images as examples `images` [3, S, S] float and `labels` [] int64, decoded and transformed
/// when asked for.
class ImageDataset final : public peft::Dataset {
 public:
  ImageDataset(Split split, ImageOptions options);

  std::int64_t size() const override { return static_cast<std::int64_t>(split_.samples.size()); }
  std::optional<Batch> example(std::int64_t index, std::int64_t epoch) override;
  /// Stacked; every example skipped gives `images` [0, 3, S, S].
  Batch collate(std::vector<Batch> examples) const override;
  std::int64_t skipped() const override { return skipped_.load(); }

  const Split& split() const { return split_; }
  const ImageOptions& options() const { return options_; }

 private:
  at::Tensor load_image(std::size_t index);

  Split split_;
  ImageOptions options_;
  std::vector<at::Tensor> cache_;
  std::mutex cache_mutex_;
  std::atomic<std::int64_t> skipped_{0};
};

}  // namespace peft::data
