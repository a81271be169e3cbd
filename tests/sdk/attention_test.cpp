// peft::attention against attention written out one query at a time, and its kernels against each other.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "peft/attention.h"
#include "peft/error.h"
#include "support/builtin_plugins.h"

namespace {

// Query t of sequence b reads key s when s <= past + t (causal) and key_mask[b][s] is 1; GQA head h reads key/value
// head h / (H / H_kv). Loops over every (b, h, t): no masking or broadcasting tricks shared with the code under test.
at::Tensor by_hand(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool causal, std::int64_t past,
                   const at::Tensor& key_mask) {
  const std::int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), keys = k.size(2);
  const std::int64_t group = heads / k.size(1);
  at::Tensor out = at::zeros_like(q);
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t t = 0; t < length; ++t) {
        std::vector<std::int64_t> readable;
        for (std::int64_t s = 0; s < keys; ++s) {
          const bool future = causal && s > past + t;
          const bool padding = key_mask.defined() && key_mask[b][s].item<std::int64_t>() == 0;
          if (!future && !padding) readable.push_back(s);
        }
        const at::Tensor index = at::tensor(readable, at::kLong);
        const at::Tensor key = k[b][h / group].index_select(0, index);
        const at::Tensor value = v[b][h / group].index_select(0, index);
        const at::Tensor weights = at::softmax(key.matmul(q[b][h][t]) / std::sqrt(double(q.size(3))), 0);
        out[b][h][t] = weights.matmul(value);
      }
    }
  }
  return out;
}

}  // namespace

CATCH_TEST_CASE("attention equals attention written out per query: causal, cached prefix, padding, shared heads") {
  at::manual_seed(0);
  const at::Tensor q = at::randn({2, 4, 3, 8});
  const at::Tensor k = at::randn({2, 2, 5, 8});  // 2 key/value heads for 4 query heads; 2 cached keys + 3 new
  const at::Tensor v = at::randn({2, 2, 5, 8});
  const at::Tensor key_mask = at::tensor({1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, at::kLong).view({2, 5});

  peft::AttentionSpec spec;
  spec.kernel = peft::AttentionKernel::plain;
  CATCH_CHECK(peft::test::relative_error(peft::attention(q, k, v, spec), by_hand(q, k, v, false, 0, {})) < 1e-6);
  spec.causal = true;
  spec.past = 2;
  CATCH_CHECK(peft::test::relative_error(peft::attention(q, k, v, spec), by_hand(q, k, v, true, 2, {})) < 1e-6);
  spec.key_mask = key_mask;
  CATCH_CHECK(peft::test::relative_error(peft::attention(q, k, v, spec), by_hand(q, k, v, true, 2, key_mask)) < 1e-6);
  // Without the cached prefix the first query reads only itself.
  spec.past = 0;
  spec.key_mask = at::Tensor();
  const at::Tensor square = peft::attention(q, k.narrow(2, 0, 3), v.narrow(2, 0, 3), spec);
  CATCH_CHECK(peft::test::relative_error(square.select(2, 0), v.narrow(2, 0, 1).repeat_interleave(2, 1).select(2, 0)) <
              1e-6);

  spec.key_mask = at::ones({3, 5}, at::kLong);
  CATCH_CHECK_THROWS_WITH(peft::attention(q, k, v, spec), Catch::Contains("key_mask is [3, 5], expected [2, 5]"));
}

CATCH_TEST_CASE("the SDPA kernel gives what the plain kernel gives, or is refused by name where the build lacks it") {
  at::manual_seed(1);
  const at::Tensor q = at::randn({2, 4, 6, 16});
  const at::Tensor k = at::randn({2, 2, 6, 16});
  const at::Tensor v = at::randn({2, 2, 6, 16});
  peft::AttentionSpec plain;
  plain.kernel = peft::AttentionKernel::plain;
  peft::AttentionSpec sdpa;
  sdpa.kernel = peft::AttentionKernel::sdpa;
  if (!peft::sdpa_available()) {
    CATCH_CHECK_THROWS_WITH(peft::attention(q, k, v, sdpa), Catch::Contains("attention = 'sdpa' needs LibTorch 2.1"));
    // auto falls back to the plain kernel.
    CATCH_CHECK(peft::attention(q, k, v).equal(peft::attention(q, k, v, plain)));
    return;
  }
  const auto agree = [&](bool causal, std::int64_t past, const at::Tensor& key_mask) {
    plain.causal = sdpa.causal = causal;
    plain.past = sdpa.past = past;
    plain.key_mask = sdpa.key_mask = key_mask;
    const std::int64_t queries = 6 - past;
    const at::Tensor tail = q.narrow(2, past, queries);
    return peft::test::relative_error(peft::attention(tail, k, v, sdpa), peft::attention(tail, k, v, plain));
  };
  CATCH_CHECK(agree(false, 0, {}) < 1e-5);
  CATCH_CHECK(agree(true, 0, {}) < 1e-5);
  CATCH_CHECK(agree(true, 4, {}) < 1e-5);
  CATCH_CHECK(agree(true, 0, at::tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, at::kLong).view({2, 6})) < 1e-5);
}
