#include "explain.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <vector>

CATCH_TEST_CASE("cluster maps put each patch token's response on the patch grid, row-major, prefix tokens dropped") {
  // A 4×4 grid behind one class token: the left half of the image answers direction 0, the right half direction 1.
  at::Tensor outputs = at::zeros({1, 1 + 16, 2});
  outputs[0][0].fill_(100.0);  // the class token, which must not show
  for (std::int64_t token = 0; token < 16; ++token) outputs[0][1 + token][token % 4 < 2 ? 0 : 1] = 1.0;
  const at::Tensor maps = peft::cluster_maps(outputs, at::eye(2), 1, {4, 4});
  CATCH_REQUIRE(maps.sizes() == at::IntArrayRef({1, 2, 4, 4}));
  const at::Tensor left = maps[0].slice(2, 0, 2);
  const at::Tensor right = maps[0].slice(2, 2, 4);
  CATCH_CHECK(left[0].min().item<float>() == 1.0f);
  CATCH_CHECK(right[0].max().item<float>() == 0.0f);
  CATCH_CHECK(left[1].max().item<float>() == 0.0f);
  CATCH_CHECK(right[1].min().item<float>() == 1.0f);

  // Normalised, the halves still separate; z-scores land in [0, 1], min-max zeroes what is at or below the threshold.
  const at::Tensor z = peft::normalize_maps(maps, "zscore", 0.5);
  CATCH_CHECK(z.min().item<float>() >= 0.0f);
  CATCH_CHECK(z.max().item<float>() <= 1.0f);
  CATCH_CHECK((z[0][0].slice(1, 0, 2).min() > z[0][0].slice(1, 2, 4).max()).item<bool>());
  const at::Tensor m = peft::normalize_maps(maps * 3 + 1, "minmax", 0.5);
  CATCH_CHECK(m[0][1].slice(1, 0, 2).max().item<float>() == 0.0f);
  CATCH_CHECK(m[0][1].slice(1, 2, 4).min().item<float>() == 1.0f);
}

CATCH_TEST_CASE("a sheet shows the most distinct maps: the most varied first, then each the least like those shown") {
  // Maps 0-2 are the left half at three strengths, map 3 the right half (weaker), map 4 a single patch.
  at::Tensor maps = at::zeros({5, 2, 2});
  maps[0].slice(1, 0, 1).fill_(3.0);
  maps[1].slice(1, 0, 1).fill_(2.0);
  maps[2].slice(1, 0, 1).fill_(1.0);
  maps[3].slice(1, 1, 2).fill_(0.5);
  maps[4][0][0] = 0.1;
  // Spread alone would show 0, 1, 2: one map three times. The right half (correlation -1) comes next, then the patch.
  CATCH_CHECK(peft::most_distinct_maps(maps, 3) == std::vector<std::int64_t>{0, 3, 4});
  CATCH_CHECK(peft::most_distinct_maps(maps, 1) == std::vector<std::int64_t>{0});
  CATCH_CHECK(peft::most_distinct_maps(maps, 9).size() == 5);
}

CATCH_TEST_CASE(
    "display maps follow the official visualiser: bilinear upsampling first, then min-max and the 0.5 cut") {
  // A 2×2 map rising left to right. F.interpolate(size=4, mode="bilinear", align_corners=False) samples the columns at
  // -0.25, 0.25, 0.75, 1.25 (clamped): 0, 0.25, 0.75, 1 on every row; min-max keeps them; below 0.5 becomes 0.
  const at::Tensor maps = at::tensor({0.0f, 2.0f, 0.0f, 2.0f}).view({1, 1, 2, 2});
  const at::Tensor shown = peft::display_maps(maps, 4, "minmax", 0.5);
  CATCH_REQUIRE(shown.sizes() == at::IntArrayRef({1, 1, 4, 4}));
  const at::Tensor row = at::tensor({0.0f, 0.0f, 0.75f, 1.0f});
  for (std::int64_t r = 0; r < 4; ++r) CATCH_CHECK(at::allclose(shown[0][0][r], row));
  // Normalising on the grid first (what peft did) would keep the 0.25 (the grid holds only 0 and 1, nothing to cut).
  // At threshold 0.2 the 0.25 stays.
  const at::Tensor low = peft::display_maps(maps, 4, "minmax", 0.2);
  CATCH_CHECK(at::allclose(low[0][0][0], at::tensor({0.0f, 0.25f, 0.75f, 1.0f})));
}
