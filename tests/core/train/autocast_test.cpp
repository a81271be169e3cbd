// Mixed precision: inside the scope linear layers compute in bf16; outside, and after it, float32 again.
#include "train/autocast.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "peft/error.h"

CATCH_TEST_CASE("bf16 autocast runs linear layers in bf16 inside its scope only, and no is float32 throughout") {
  at::manual_seed(3);
  const at::Tensor x = at::randn({4, 8});
  const at::Tensor w = at::randn({5, 8});
  const at::Tensor exact = at::linear(x, w);
  {
    const peft::AutocastScope scope(peft::MixedPrecision::bf16, at::Device(at::kCPU));
    const at::Tensor y = at::linear(x, w);
    CATCH_CHECK(y.scalar_type() == at::kBFloat16);
    // The product of the bf16-rounded operands: close to float32's, not equal.
    const double error = (y.to(at::kFloat) - exact).abs().max().item<double>();
    CATCH_CHECK(error > 0.0);
    CATCH_CHECK(error < 0.05 * exact.abs().max().item<double>());
    {
      const peft::AutocastScope off(peft::MixedPrecision::no, at::Device(at::kCPU));
      CATCH_CHECK(at::linear(x, w).scalar_type() == at::kBFloat16);  // "no" leaves an outer scope as it is
    }
  }
  CATCH_CHECK(at::linear(x, w).scalar_type() == at::kFloat);
  CATCH_CHECK(at::equal(at::linear(x, w), exact));
}

CATCH_TEST_CASE("mixed_precision names no or bf16; bf16 on a CPU without bf16 instructions gets a note") {
  CATCH_CHECK(peft::mixed_precision_from("no") == peft::MixedPrecision::no);
  CATCH_CHECK(peft::mixed_precision_from("bf16") == peft::MixedPrecision::bf16);
  CATCH_CHECK_THROWS_WITH(peft::mixed_precision_from("fp16"),
                          "[train] mixed_precision = \"fp16\": expected \"no\" or \"bf16\"");
  CATCH_CHECK(peft::mixed_precision_note(peft::MixedPrecision::no, at::Device(at::kCPU)).empty());
  CATCH_CHECK(peft::mixed_precision_note(peft::MixedPrecision::bf16, at::Device(at::kCUDA, 0)).empty());
}
