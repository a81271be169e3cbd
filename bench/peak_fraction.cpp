// Bench 5: how much of this machine's matrix-multiply peak a ViT-B/16 step reaches. Measures the sgemm rate
// (at::mm, float32, the LibTorch BLAS at the trainer's thread count) on ViT-B's own GEMM shapes and a large square
// one, takes the best as the peak, then times full fine-tuning steps (forward, loss, backward, AdamW update) and
// frozen inference on ViT-B/16 at 224 with random weights, interleaved, medians after warm-up. A step's FLOPs are
// counted from the architecture: the forward is 2·(multiply-adds) of the patch embedding, the four linears of each
// block, the two attention products and the head; a full training step is 3× the forward (input and weight
// gradients); element-wise work, softmax and LayerNorm are not counted, so the fractions are lower bounds.
// Usage: peak_fraction [--batch 8] [--steps 2] [--rounds 3]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "adapted_model.h"
#include "bench_util.h"
#include "memory_reuse.h"
#include "model_builder.h"
#include "plugin_loader.h"

using peft::bench::median;
using peft::bench::seconds_since;

namespace {

// ViT-B/16 at 224: 196 patches + the class token, width 768, 12 blocks, MLP 3072.
constexpr double kTokens = 197, kPatches = 196, kWidth = 768, kDepth = 12, kHidden = 3072, kPatchInputs = 3 * 16 * 16;

double forward_flops(double batch, double classes) {
  const double patch_embed = 2 * kPatches * kPatchInputs * kWidth;
  const double linears = 2 * kTokens * (kWidth * 3 * kWidth + kWidth * kWidth + 2 * kWidth * kHidden);
  const double attention = 2 * 2 * kTokens * kTokens * kWidth;  // q·kᵀ and attention·v over all heads
  return batch * (patch_embed + kDepth * (linears + attention) + 2 * kWidth * classes);
}

// The best of several runs of m×k @ k×n, in FLOP/s.
double sgemm_rate(std::int64_t m, std::int64_t k, std::int64_t n, int rounds) {
  const at::Tensor a = at::randn({m, k});
  const at::Tensor b = at::randn({k, n});
  at::Tensor c = at::mm(a, b);  // warm-up
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    at::mm_out(c, a, b);
    best = std::max(best, 2.0 * static_cast<double>(m * k * n) / seconds_since(start));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  peft::keep_freed_memory();  // as the peft command does
  std::int64_t batch = 8;
  int steps = 2;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::stoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::stoi(argv[i + 1]);
  }
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));  // as the trainer does
  at::manual_seed(0);
  const std::int64_t rows = batch * 197;
  struct Shape {
    const char* name;
    std::int64_t m, k, n;
  };
  const Shape shapes[] = {{"qkv", rows, 768, 2304},
                          {"mlp.fc1", rows, 768, 3072},
                          {"mlp.fc2", rows, 3072, 768},
                          {"square 2048", 2048, 2048, 2048}};
  double peak = 0;
  std::printf("| sgemm (float32, %d threads, best of 5) | shape | GFLOP/s |\n|---|---|---|\n", at::get_num_threads());
  for (const auto& s : shapes) {
    const double rate = sgemm_rate(s.m, s.k, s.n, 5);
    peak = std::max(peak, rate);
    std::printf("| %s | [%lld × %lld] @ [%lld × %lld] | %.1f |\n", s.name, static_cast<long long>(s.m),
                static_cast<long long>(s.k), static_cast<long long>(s.k), static_cast<long long>(s.n), rate / 1e9);
  }

  const peft::PluginSet plugins = peft::discover_plugins({}, true);
  const peft::BackboneSection backbone = peft::bench::vit_section("vit_base_patch16_224", 5);
  peft::MethodSection full;
  full.plugin = "full";
  full.context = "bench";
  peft::bench::TimedModel timed(
      peft::adapt(plugins.registry, peft::build_backbone(plugins.registry, backbone).backbone, full));
  const at::Tensor images = at::randn({batch, 3, 224, 224});
  const at::Tensor labels = at::randint(0, 5, {batch});
  timed.train_step(images, labels);
  timed.eval_forward(images);
  std::vector<double> train_s, eval_s;
  for (int round = 0; round < rounds; ++round) {
    train_s.push_back(peft::bench::seconds_per_call(steps, [&] { timed.train_step(images, labels); }));
    eval_s.push_back(peft::bench::seconds_per_call(steps, [&] { timed.eval_forward(images); }));
  }
  const double forward = forward_flops(static_cast<double>(batch), 5);
  const double train = median(train_s), eval = median(eval_s);
  std::printf(
      "\n| ViT-B/16, batch %lld, %d threads | GFLOP a batch | seconds | GFLOP/s | fraction of sgemm peak "
      "(%.1f GFLOP/s) |\n|---|---|---|---|---|\n",
      static_cast<long long>(batch), at::get_num_threads(), peak / 1e9);
  std::printf("| full fine-tuning step (3× forward) | %.1f | %.3f | %.1f | **%.1f %%** |\n", 3 * forward / 1e9, train,
              3 * forward / train / 1e9, 100 * 3 * forward / train / peak);
  std::printf("| inference forward | %.1f | %.3f | %.1f | **%.1f %%** |\n", forward / 1e9, eval, forward / eval / 1e9,
              100 * forward / eval / peak);
  return 0;
}
