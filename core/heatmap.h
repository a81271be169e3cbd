#pragma once
// Drawing maps over images: a colour scale, overlays, and sheets of tiles, as uint8 [3, H, W] images.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peft {

/// Values in [0, 1] [H, W] → the "jet" colour scale (blue → cyan → yellow → red), float [3, H, W] in [0, 1].
at::Tensor jet(const at::Tensor& values);

/// `image` float [3, H, W] in [0, 1] with `map` [h, w] in [0, 1] (upsampled bilinearly to H × W) drawn over it in
/// colour at `alpha`: uint8 [3, H, W].
at::Tensor overlay(const at::Tensor& image, const at::Tensor& map, double alpha = 0.5);

/// Width and height in pixels of `text` drawn by draw_text at `scale` (stb_easy_font's glyphs: ~6 × 7 each).
std::array<std::int64_t, 2> text_size(const std::string& text, std::int64_t scale = 1);

/// Draws `text` (ASCII) into `canvas` (uint8 [3, H, W]) with its top-left at (`x`, `y`), in `rgb`, each font pixel
/// `scale` × `scale`; with `background`, on a box of that colour. What falls outside the canvas is clipped.
void draw_text(at::Tensor& canvas, std::int64_t x, std::int64_t y, const std::string& text,
               std::array<std::uint8_t, 3> rgb, std::int64_t scale = 1,
               std::optional<std::array<std::uint8_t, 3>> background = std::nullopt);

/// Tiles (uint8 [3, H, W], all the same size) in a grid of `rows` × `columns`, row by row, `gap` white pixels apart.
at::Tensor sheet(const std::vector<at::Tensor>& tiles, std::int64_t rows, std::int64_t columns, std::int64_t gap = 2);

}  // namespace peft
