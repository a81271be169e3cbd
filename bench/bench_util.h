#pragma once
// What the benchmark programs share: wall-clock seconds, medians, the random-weight ViT they time, and the training
// step and evaluation forward they time on it.

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapted_model.h"
#include "recipe.h"
#include "train/optimizer.h"

namespace peft::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// A `vit` backbone of `variant` with random weights and a `classes`-way head.
inline BackboneSection vit_section(const std::string& variant, std::int64_t classes = 5) {
  BackboneSection backbone;
  backbone.plugin = "vit";
  backbone.context = "bench";
  backbone.options["variant"] = variant;
  backbone.options["num_classes"] = classes;
  return backbone;
}

/// Mean seconds of one call, over `calls` calls of `run`; on a GPU `device`, its queue drained before the clock
/// starts and before it stops.
template <class Run>
double seconds_per_call(int calls, Run&& run, const at::Device& device = at::kCPU) {
  if (device.is_cuda()) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) run();
  if (device.is_cuda()) torch::cuda::synchronize();
  return seconds_since(start) / calls;
}

/// An adapted model with its AdamW (default TrainOptions), as the trainer steps it.
struct TimedModel {
  explicit TimedModel(AdaptedModel adapted)
      : model(std::make_unique<AdaptedModel>(std::move(adapted))),
        optimizer(std::make_unique<Optimizer>(TrainOptions{}, model->trainable)) {}

  /// Forward, cross-entropy loss, backward and optimizer update on one batch.
  void train_step(const at::Tensor& images, const at::Tensor& labels) {
    model->train(true);
    optimizer->zero_grad();
    at::cross_entropy_loss(model->logits({{keys::images, images}}), labels).backward();
    optimizer->step(1e-4);
  }

  /// An evaluation forward without autograd.
  void eval_forward(const at::Tensor& images) {
    at::NoGradGuard no_grad;
    model->train(false);
    model->forward({{keys::images, images}});
  }

  std::unique_ptr<AdaptedModel> model;
  std::unique_ptr<Optimizer> optimizer;
};

}  // namespace peft::bench
