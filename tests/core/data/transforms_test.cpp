#include "data/transforms.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "peft/error.h"

using peft::data::apply_transforms;
using peft::data::Random;
using peft::data::TransformOptions;

namespace {

TransformOptions raw(std::int64_t size) {  // no normalisation: outputs are pixel / 255
  TransformOptions options;
  options.image_size = size;
  options.mean = {0, 0, 0};
  options.std = {1, 1, 1};
  return options;
}

}  // namespace

CATCH_TEST_CASE("grey becomes three channels, scaled to [0, 1] and normalised with mean and std") {
  Random random(0);
  TransformOptions options;  // mean = std = 0.5
  options.image_size = 8;
  const at::Tensor out = apply_transforms(at::full({1, 4, 4}, 51, at::kByte), options, random);
  CATCH_CHECK(out.sizes() == at::IntArrayRef({3, 8, 8}));
  CATCH_CHECK(out.scalar_type() == at::kFloat);
  CATCH_CHECK(at::allclose(out, at::full({3, 8, 8}, (0.2 - 0.5) / 0.5)));  // 51 / 255 = 0.2
}

CATCH_TEST_CASE("bilinear upsampling matches the half-pixel-centre formula") {
  Random random(0);
  const at::Tensor image = at::tensor({0, 100, 0, 100}, at::kByte).view({1, 2, 2});
  const at::Tensor out = apply_transforms(image, raw(4), random) * 255;
  // Source x = (i + 0.5) / 2 - 0.5 → -0.25 (edge), 0.25, 0.75, 1.25 (edge): 0, 25, 75, 100.
  CATCH_CHECK(at::allclose(out[0][0], at::tensor({0.f, 25.f, 75.f, 100.f}), 1e-4, 1e-3));
  CATCH_CHECK(at::allclose(out[2][3], out[0][0]));
}

CATCH_TEST_CASE("shorter-side resize keeps the aspect; the centre crop takes the middle") {
  Random random(0);
  TransformOptions options = raw(2);
  options.resize = "shorter";
  options.resize_size = 4;  // the shorter side is already 4: no resampling
  options.crop = "center";
  const at::Tensor image = at::arange(24, at::kInt).to(at::kByte).view({1, 4, 6});
  const at::Tensor out = apply_transforms(image, options, random) * 255;
  // Offsets (4 - 2) / 2 = 1 and (6 - 2) / 2 = 2: rows 1-2, columns 2-3.
  CATCH_CHECK(at::allclose(out[0], at::tensor({8.f, 9.f, 14.f, 15.f}).view({2, 2}), 1e-4, 1e-3));

  options.crop = "none";
  options.resize_size = 2;
  CATCH_CHECK(apply_transforms(image, options, random).sizes() == at::IntArrayRef({3, 2, 3}));
}

CATCH_TEST_CASE("random crop and flip follow the generator they are given") {
  TransformOptions options = raw(2);
  options.resize = "shorter";
  options.resize_size = 4;
  options.crop = "random";
  options.flip = true;
  const at::Tensor image = at::arange(16, at::kInt).to(at::kByte).view({1, 4, 4});
  std::set<std::vector<float>> seen;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    Random a(seed);
    Random b(seed);
    const at::Tensor first = apply_transforms(image, options, a);
    CATCH_REQUIRE(at::equal(first, apply_transforms(image, options, b)));
    Random expected(seed);
    const auto top = static_cast<std::int64_t>(expected.below(3));
    const auto left = static_cast<std::int64_t>(expected.below(3));
    at::Tensor crop = image.to(at::kFloat).slice(1, top, top + 2).slice(2, left, left + 2);
    if (expected.uniform() < 0.5) crop = crop.flip({2});
    CATCH_REQUIRE(at::allclose(first[0] * 255, crop[0], 1e-4, 1e-3));
    const at::Tensor flat = first[0].flatten().contiguous();
    seen.insert(std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + 4));
  }
  CATCH_CHECK(seen.size() > 9);  // several positions and both flips occur
}

CATCH_TEST_CASE("impossible transform settings are errors naming the field") {
  TransformOptions options;
  options.interpolation = "nearest";
  CATCH_CHECK_THROWS_WITH(peft::data::validate(options), "[data] data.interpolation must be bilinear or bicubic");
  options = {};
  options.resize = "shorter";
  options.resize_size = 200;
  options.crop = "center";
  CATCH_CHECK_THROWS_WITH(peft::data::validate(options),
                          Catch::Contains("data.resize_size = 200 is smaller than the crop"));
  options = {};
  options.image_size = 100000;  // each image would be 120 GB: an error, not an allocation failure
  CATCH_CHECK_THROWS_WITH(peft::data::validate(options), "[data] data.image_size = 100000, expected at most 4096");
}
