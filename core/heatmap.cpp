#include "heatmap.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace peft {
namespace {

// stb_easy_font's quads for `text` at the origin: [x0, y0, x1, y1] rectangles in font pixels.
std::vector<std::array<float, 4>> glyph_boxes(const std::string& text) {
  struct Vertex {
    float x, y, z;
    unsigned char color[4];
  };
  std::vector<Vertex> vertices(text.size() * 4 * 70 + 4);  // at most ~70 quads a glyph
  std::string copy = text;
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(Vertex)));
  std::vector<std::array<float, 4>> boxes;
  for (int q = 0; q < quads; ++q) {
    const Vertex* v = &vertices[static_cast<std::size_t>(q) * 4];
    boxes.push_back(
        {std::min(v[0].x, v[2].x), std::min(v[0].y, v[2].y), std::max(v[0].x, v[2].x), std::max(v[0].y, v[2].y)});
  }
  return boxes;
}

}  // namespace

std::array<std::int64_t, 2> text_size(const std::string& text, std::int64_t scale) {
  float width = 0;
  float height = 0;
  for (const auto& box : glyph_boxes(text)) {
    width = std::max(width, box[2]);
    height = std::max(height, box[3]);
  }
  return {static_cast<std::int64_t>(width) * scale, static_cast<std::int64_t>(height) * scale};
}

void draw_text(at::Tensor& canvas, std::int64_t x, std::int64_t y, const std::string& text,
               std::array<std::uint8_t, 3> rgb, std::int64_t scale,
               std::optional<std::array<std::uint8_t, 3>> background) {
  const std::int64_t height = canvas.size(1);
  const std::int64_t width = canvas.size(2);
  const auto fill = [&](std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1,
                        const std::array<std::uint8_t, 3>& colour) {
    x0 = std::clamp<std::int64_t>(x0, 0, width);
    x1 = std::clamp<std::int64_t>(x1, 0, width);
    y0 = std::clamp<std::int64_t>(y0, 0, height);
    y1 = std::clamp<std::int64_t>(y1, 0, height);
    if (x0 >= x1 || y0 >= y1) return;
    for (std::int64_t c = 0; c < 3; ++c) canvas[c].slice(0, y0, y1).slice(1, x0, x1).fill_(colour[c]);
  };
  if (background) {
    const auto size = text_size(text, scale);
    fill(x - scale, y - scale, x + size[0] + scale, y + size[1] + scale, *background);
  }
  for (const auto& box : glyph_boxes(text)) {
    fill(x + static_cast<std::int64_t>(box[0]) * scale, y + static_cast<std::int64_t>(box[1]) * scale,
         x + static_cast<std::int64_t>(box[2]) * scale, y + static_cast<std::int64_t>(box[3]) * scale, rgb);
  }
}

at::Tensor jet(const at::Tensor& values) {
  const at::Tensor v = values.clamp(0.0, 1.0) * 4.0;
  // The classic piecewise-linear jet: each channel a tent around its centre.
  const at::Tensor r = (at::minimum(v - 1.5, 4.5 - v)).clamp(0.0, 1.0);
  const at::Tensor g = (at::minimum(v - 0.5, 3.5 - v)).clamp(0.0, 1.0);
  const at::Tensor b = (at::minimum(v + 0.5, 2.5 - v)).clamp(0.0, 1.0);
  return at::stack({r, g, b});
}

at::Tensor overlay(const at::Tensor& image, const at::Tensor& map, double alpha) {
  const at::Tensor resized =
      at::upsample_bilinear2d(map.to(at::kFloat).unsqueeze(0).unsqueeze(0), {image.size(1), image.size(2)}, false)
          .squeeze(0)
          .squeeze(0);
  const at::Tensor blended = image.to(at::kFloat) * (1.0 - alpha) + jet(resized) * alpha;
  return (blended * 255.0).round().clamp(0, 255).to(at::kByte);
}

at::Tensor sheet(const std::vector<at::Tensor>& tiles, std::int64_t rows, std::int64_t columns, std::int64_t gap) {
  const std::int64_t h = tiles.front().size(1);
  const std::int64_t w = tiles.front().size(2);
  at::Tensor out = at::full({3, rows * h + (rows + 1) * gap, columns * w + (columns + 1) * gap}, 255, at::kByte);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const std::int64_t row = static_cast<std::int64_t>(i) / columns;
    const std::int64_t column = static_cast<std::int64_t>(i) % columns;
    const std::int64_t top = gap + row * (h + gap);
    const std::int64_t left = gap + column * (w + gap);
    out.slice(1, top, top + h).slice(2, left, left + w).copy_(tiles[i]);
  }
  return out;
}

}  // namespace peft
