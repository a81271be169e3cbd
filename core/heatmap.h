#pragma once
// Drawing maps over images: a colour scale, overlays, and sheets of tiles, as uint8 [3, H, W] images.

#include <ATen/core/Tensor.h>

#include <vector>

namespace peft {

/// Values in [0, 1] [H, W] → the "jet" colour scale (blue → cyan → yellow → red), float [3, H, W] in [0, 1].
at::Tensor jet(const at::Tensor& values);

/// `image` float [3, H, W] in [0, 1] with `map` [h, w] in [0, 1] (upsampled bilinearly to H × W) drawn over it in
/// colour at `alpha`: uint8 [3, H, W].
at::Tensor overlay(const at::Tensor& image, const at::Tensor& map, double alpha = 0.5);

/// Tiles (uint8 [3, H, W], all the same size) in a grid of `rows` × `columns`, row by row, `gap` white pixels apart.
at::Tensor sheet(const std::vector<at::Tensor>& tiles, std::int64_t rows, std::int64_t columns, std::int64_t gap = 2);

}  // namespace peft
