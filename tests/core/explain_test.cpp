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
