// peft::linear on one row of float32 goes to peft's own GEMV kernel (sdk/src/kernels/gemv.cpp); these check it
// against LibTorch's at::linear on the shapes where a kernel goes wrong: a column count that is not a whole number
// of vector steps, a row count that is not a whole group of four, one row and one column, a bias, both thread
// counts, and the cases it must leave to LibTorch (gradients, other dtypes, strided weights).
#include "peft/site.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <catch2/catch.hpp>

#include <tuple>
#include <vector>

#include "support/thread_count.h"

namespace {

void check_matches_linear(std::int64_t rows, std::int64_t cols, bool with_bias) {
  const at::Tensor weight = at::randn({rows, cols});
  const at::Tensor x = at::randn({1, 1, cols});
  const at::Tensor bias = with_bias ? at::randn({rows}) : at::Tensor();
  const at::NoGradGuard no_grad;
  const at::Tensor got = peft::linear(x, weight, bias);
  const at::Tensor expected =
      at::linear(x.to(at::kDouble), weight.to(at::kDouble), with_bias ? bias.to(at::kDouble) : at::Tensor())
          .to(at::kFloat);
  CATCH_INFO(rows << " x " << cols << (with_bias ? " with bias" : ""));
  CATCH_CHECK(got.sizes() == expected.sizes());
  CATCH_CHECK(at::allclose(got, expected, 1e-5, 1e-5));
}

}  // namespace

CATCH_TEST_CASE("one float row through peft::linear equals at::linear on every shape the kernel splits") {
  at::manual_seed(0);
  const std::vector<std::tuple<std::int64_t, std::int64_t>> shapes = {{1, 1},      {3, 5},      {4, 16},   {5, 17},
                                                                      {7, 31},     {97, 64},    {160, 64}, {1408, 512},
                                                                      {512, 1408}, {2048, 192}, {33, 1000}};
  for (const int threads : {1, 2}) {
    const peft::test::ThreadCount count(threads);
    for (const auto& [rows, cols] : shapes) {
      check_matches_linear(rows, cols, false);
      check_matches_linear(rows, cols, true);
    }
  }
}

CATCH_TEST_CASE("a large head split over threads gives every row (no chunk left out or written twice)") {
  at::manual_seed(1);
  const peft::test::ThreadCount count(2);
  // Ones make each output its row's sum exactly, so a missed or doubled row cannot hide in a tolerance.
  const at::Tensor weight = at::arange(32003 * 3, at::kFloat).remainder(7).view({32003, 3});
  const at::NoGradGuard no_grad;
  const at::Tensor got = peft::linear(at::ones({3}), weight);
  CATCH_CHECK(at::equal(got, weight.sum(1)));
}

CATCH_TEST_CASE("one row that needs a gradient, or is not dense float32, is left to LibTorch and stays correct") {
  at::manual_seed(2);
  const at::Tensor weight = torch::randn({6, 10}, torch::requires_grad());
  const at::Tensor x = at::randn({1, 10});
  peft::linear(x, weight).sum().backward();
  CATCH_REQUIRE(weight.grad().defined());
  CATCH_CHECK(at::allclose(weight.grad(), x.expand({6, 10})));

  const at::NoGradGuard no_grad;
  const at::Tensor strided = at::randn({10, 6}).t();  // a transposed view: rows are not contiguous
  CATCH_CHECK(at::allclose(peft::linear(x, strided), at::linear(x, strided), 1e-5, 1e-5));
  const at::Tensor doubles = at::randn({6, 10}, at::kDouble);
  CATCH_CHECK(at::allclose(peft::linear(x.to(at::kDouble), doubles), at::linear(x.to(at::kDouble), doubles)));
}

CATCH_TEST_CASE("one row whose width is not the weight's is refused, not read past the end") {
  const at::NoGradGuard no_grad;
  CATCH_CHECK_THROWS_WITH(peft::linear(at::ones({1, 9}), at::ones({4, 10})),
                          Catch::Contains("input has 9 features, the weight takes 10"));
}
