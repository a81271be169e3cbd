#include "heatmap.h"

#include <ATen/ATen.h>

namespace peft {

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
