#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>

#include "data/random.h"

namespace peft::data {

/// How an image becomes a model input, as the benchmarks define it.
/// VTAB: `resize = "direct"` to image_size (aspect ignored), no crop, no flip.
/// FGVC training: `resize = "shorter"` to 256, `crop = "random"` 224, `flip = true`; evaluation: `crop = "center"`.
struct TransformOptions {
  /// Side of the square output.
  std::int64_t image_size = 224;
  /// "direct": resize to image_size × image_size; "shorter": resize the shorter side to resize_size, keeping aspect.
  std::string resize = "direct";
  std::int64_t resize_size = 256;
  /// "bilinear" or "bicubic" (antialiased when shrinking, like PIL).
  std::string interpolation = "bilinear";
  /// "none", "center" or "random" crop to image_size.
  std::string crop = "none";
  /// Random horizontal flip with probability 1/2.
  bool flip = false;
  std::array<double, 3> mean{0.5, 0.5, 0.5};
  std::array<double, 3> std{0.5, 0.5, 0.5};
};

/// Throws peft::Error naming the bad field when `options` cannot work (unknown mode, crop larger than the resize).
void validate(const TransformOptions& options);

/// uint8 [1 or 3, H, W] → float [3, image_size, image_size]: resize, crop, flip, to [0, 1], grey to three channels,
/// normalise. `random` drives the random crop and flip.
at::Tensor apply_transforms(const at::Tensor& image, const TransformOptions& options, Random& random);

}  // namespace peft::data
