// How the PaCa generator's cost grows with the number of weight rows (d_out), which are its tokens: attention runs
// from N tokens to M clusters, O(N·M·d), so the time should grow linearly in N. Times the generator's forward and
// backward (12 layers stacked, as ViT-B's attn.proj group) for d_out in {768, 1024, 1536, 3072}, interleaved rounds,
// medians. Usage: paca_scaling [--rounds 5] [--dim 48] [--clusters 96]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "generator.h"

int main(int argc, char** argv) {
  int rounds = 5;
  peft::gift::GiftOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dim")) options.dim = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--clusters")) options.clusters = std::atoll(argv[i + 1]);
  }
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const std::vector<std::int64_t> rows{768, 1024, 1536, 3072};
  const std::int64_t columns = 768;
  const std::int64_t layers = 12;
  std::vector<peft::gift::Generator> generators;
  std::vector<at::Tensor> weights;
  for (const auto n : rows) {
    generators.emplace_back(n, columns, options);
    {
      at::NoGradGuard no_grad;
      generators.back()->recovery->weight.normal_(0, 0.02);
    }
    weights.push_back(at::randn({layers, n, columns}));
  }
  std::vector<std::vector<double>> seconds(rows.size());
  for (int round = 0; round <= rounds; ++round) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      generators[i]->zero_grad();
      generators[i]->delta(generators[i]->body(weights[i])).pow(2).mean().backward();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (round > 0) seconds[i].push_back(s);  // round 0 warms up
    }
  }
  std::printf(
      "PaCa generator (d %lld, %lld clusters, 1 block), %lld layers x [d_out, %lld], forward + backward, "
      "%d threads, median of %d\n",
      static_cast<long long>(options.dim), static_cast<long long>(options.clusters), static_cast<long long>(layers),
      static_cast<long long>(columns), at::get_num_threads(), rounds);
  std::printf("%8s %10s %14s %12s\n", "d_out", "ms", "ms per 1k rows", "vs 768");
  double base = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::sort(seconds[i].begin(), seconds[i].end());
    const double median = seconds[i][seconds[i].size() / 2] * 1e3;
    if (i == 0) base = median;
    std::printf("%8lld %10.2f %14.2f %11.2fx\n", static_cast<long long>(rows[i]), median,
                median / static_cast<double>(rows[i]) * 1e3, median / base);
  }
  return 0;
}
