#include "data/transforms.h"

#include <ATen/ATen.h>

#include "peft/error.h"

namespace peft::data {
namespace {

at::Tensor resize(const at::Tensor& image, std::int64_t height, std::int64_t width, const std::string& mode) {
  if (image.size(1) == height && image.size(2) == width) return image;
  const bool shrinking = height < image.size(1) || width < image.size(2);
  const at::Tensor batch = image.unsqueeze(0);
  const std::vector<std::int64_t> size{height, width};
  at::Tensor out;
  if (mode == "bicubic") {
    out = shrinking ? at::_upsample_bicubic2d_aa(batch, size, false) : at::upsample_bicubic2d(batch, size, false);
  } else {
    out = shrinking ? at::_upsample_bilinear2d_aa(batch, size, false) : at::upsample_bilinear2d(batch, size, false);
  }
  return out.squeeze(0);
}

}  // namespace

void validate(const TransformOptions& options) {
  const auto bad = [](const std::string& field, const std::string& message) {
    throw Error("data", "data." + field + " " + message);
  };
  if (options.image_size <= 0) bad("image_size", "must be positive");
  // Bounded so a typo is an error, not a batch of terabytes: 4096 is 8x the largest ViT input in use (518).
  constexpr std::int64_t kMaxSize = 4096;
  if (options.image_size > kMaxSize) {
    bad("image_size", "= " + std::to_string(options.image_size) + ", expected at most " + std::to_string(kMaxSize));
  }
  if (options.resize_size > 2 * kMaxSize) {
    bad("resize_size",
        "= " + std::to_string(options.resize_size) + ", expected at most " + std::to_string(2 * kMaxSize));
  }
  if (options.resize != "direct" && options.resize != "shorter") bad("resize", "must be direct or shorter");
  if (options.interpolation != "bilinear" && options.interpolation != "bicubic") {
    bad("interpolation", "must be bilinear or bicubic");
  }
  if (options.crop != "none" && options.crop != "center" && options.crop != "random") {
    bad("crop", "must be none, center or random");
  }
  if (options.resize == "shorter" && options.resize_size < options.image_size && options.crop != "none") {
    bad("resize_size", "= " + std::to_string(options.resize_size) +
                           " is smaller than the crop, image_size = " + std::to_string(options.image_size));
  }
  for (const double value : options.std) {
    if (value <= 0) bad("std", "values must be positive");
  }
}

at::Tensor apply_transforms(const at::Tensor& image, const TransformOptions& options, Random& random) {
  at::Tensor x = image.to(at::kFloat);
  const std::int64_t height = x.size(1);
  const std::int64_t width = x.size(2);
  if (options.resize == "direct") {
    x = resize(x, options.image_size, options.image_size, options.interpolation);
  } else {
    const double scale = static_cast<double>(options.resize_size) / static_cast<double>(std::min(height, width));
    x = resize(x, std::max<std::int64_t>(1, std::llround(height * scale)),
               std::max<std::int64_t>(1, std::llround(width * scale)), options.interpolation);
  }
  if (options.crop != "none") {
    const std::int64_t size = options.image_size;
    const std::int64_t spare_h = std::max<std::int64_t>(0, x.size(1) - size);
    const std::int64_t spare_w = std::max<std::int64_t>(0, x.size(2) - size);
    const bool centre = options.crop == "center";
    // torchvision's CenterCrop rounds the offset to nearest.
    const std::int64_t top =
        centre ? std::llround(spare_h / 2.0) : static_cast<std::int64_t>(random.below(spare_h + 1));
    const std::int64_t left =
        centre ? std::llround(spare_w / 2.0) : static_cast<std::int64_t>(random.below(spare_w + 1));
    x = x.slice(1, top, top + size).slice(2, left, left + size);
  }
  if (options.flip && random.uniform() < 0.5) x = x.flip({2});
  if (x.size(0) == 1) x = x.expand({3, -1, -1});
  // Round-trip through uint8 as PIL/torchvision do after resizing, then scale to [0, 1] and normalise.
  x = x.round().clamp(0, 255) / 255.0;
  const at::Tensor mean = at::tensor({options.mean[0], options.mean[1], options.mean[2]}, at::kFloat).view({3, 1, 1});
  const at::Tensor std = at::tensor({options.std[0], options.std[1], options.std[2]}, at::kFloat).view({3, 1, 1});
  return ((x - mean) / std).contiguous();
}

}  // namespace peft::data
