// One-token matrix-vector products as generation runs them: peft::linear (peft's own float32 GEMV kernel) against
// at::linear on the same one-row input (LibTorch's BLAS: MKL's one-row GEMM in the torch wheel), on the weights of
// bench/llama.sh's tinyllama-2core shape. Prints one line per shape: microseconds per call (median of 7 runs of
// 200 calls), the weight's gigabytes per second through each, and the ratio. Outputs agree within 1e-4 (checked).
//
//   gemv_bench [--threads N]   (default 2)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "peft/site.h"

namespace {

double median_microseconds(const std::function<void()>& run) {
  for (int i = 0; i < 20; ++i) run();  // warm the weight into whatever cache holds it, as a generation loop does
  std::vector<double> runs;
  for (int r = 0; r < 7; ++r) runs.push_back(peft::bench::seconds_per_call(200, run) * 1e6);
  return peft::bench::median(runs);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (argc == 3 && std::string(argv[1]) == "--threads") threads = std::atoi(argv[2]);
  at::set_num_threads(threads);
  at::manual_seed(0);
  const at::NoGradGuard no_grad;
  // The LM head, the feed-forward's gate/up and down, the attention's q/o and k/v.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {
      {32000, 512}, {1408, 512}, {512, 1408}, {512, 512}, {128, 512}};
  std::printf("one-row product, %d threads: us per call (median), weight GB/s\n", threads);
  std::printf("%-14s %10s %10s %8s %8s %7s\n", "weight", "at::linear", "peft", "GB/s at", "GB/s", "x");
  for (const auto& [rows, cols] : shapes) {
    const at::Tensor weight = at::randn({rows, cols});
    const at::Tensor x = at::randn({1, 1, cols});
    if (!at::allclose(peft::linear(x, weight), at::linear(x, weight), 1e-4, 1e-4)) {
      std::fprintf(stderr, "gemv_bench: peft::linear and at::linear differ on %lld x %lld\n",
                   static_cast<long long>(rows), static_cast<long long>(cols));
      return 1;
    }
    const double theirs = median_microseconds([&] { at::linear(x, weight); });
    const double ours = median_microseconds([&] { peft::linear(x, weight); });
    const double bytes = static_cast<double>(rows * cols) * sizeof(float);
    const std::string name = std::to_string(rows) + " x " + std::to_string(cols);
    std::printf("%-14s %10.1f %10.1f %8.1f %8.1f %6.2fx\n", name.c_str(), theirs, ours, bytes / theirs / 1e3,
                bytes / ours / 1e3, theirs / ours);
  }
}
