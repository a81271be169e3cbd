// What each method costs per training step, side by side in one run: every built-in method on the same backbone,
// batch and images, timing whole training steps (forward, loss, backward, optimizer update) and evaluation
// forwards. Prints images/s and each method's time relative to the linear probe (frozen backbone, head only) and
// to full fine-tuning. Usage: method_step [--variant vit_mini_patch4_32] [--batch 64] [--steps 10]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "adapted_model.h"
#include "model_builder.h"
#include "plugin_loader.h"
#include "train/optimizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timing {
  double train_step_s = 0;
  double eval_forward_s = 0;
  std::int64_t trainable = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string variant = "vit_mini_patch4_32";
  std::int64_t batch = 64;
  int steps = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--variant")) variant = argv[i + 1];
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
  }
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));  // as the trainer does
  const peft::PluginSet plugins = peft::discover_plugins({}, true);
  peft::BackboneSection backbone;
  backbone.plugin = "vit";
  backbone.context = "bench";
  backbone.options["variant"] = variant;
  backbone.options["num_classes"] = std::int64_t{5};
  const std::int64_t size = peft::build_backbone(plugins.registry, backbone).backbone->preprocessing().image_size;
  at::manual_seed(0);
  const at::Tensor images = at::randn({batch, 3, size, size});
  const at::Tensor labels = at::randint(0, 5, {batch});

  std::map<std::string, Timing> timings;
  for (const auto& name : plugins.registry.methods().names()) {
    peft::MethodSection method;
    method.plugin = name;
    method.context = "bench";
    peft::AdaptedModel model =
        peft::adapt(plugins.registry, peft::build_backbone(plugins.registry, backbone).backbone, method);
    peft::Optimizer optimizer(peft::TrainOptions{}, model.trainable);
    const auto train_step = [&] {
      model.train(true);
      optimizer.zero_grad();
      at::cross_entropy_loss(model.forward(images), labels).backward();
      optimizer.step(1e-4);
    };
    const auto eval_forward = [&] {
      at::NoGradGuard no_grad;
      model.train(false);
      model.forward(images);
    };
    train_step();  // warm-up
    eval_forward();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) train_step();
    Timing timing;
    timing.train_step_s = seconds_since(start) / steps;
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) eval_forward();
    timing.eval_forward_s = seconds_since(start) / steps;
    timing.trainable = model.trainable_count();
    timings[name] = timing;
  }

  std::printf("%s, batch %lld, %d steps each, %d torch threads\n", variant.c_str(), static_cast<long long>(batch),
              steps, at::get_num_threads());
  std::printf("%-14s %12s %12s %10s %10s %12s %10s\n", "method", "trainable", "train img/s", "vs probe", "vs full",
              "eval img/s", "eval vs probe");
  const Timing& probe = timings.at("linear_probe");
  const Timing& full = timings.at("full");
  for (const auto& [name, t] : timings) {
    std::printf("%-14s %12lld %12.0f %9.2fx %9.2fx %12.0f %9.2fx\n", name.c_str(), static_cast<long long>(t.trainable),
                static_cast<double>(batch) / t.train_step_s, t.train_step_s / probe.train_step_s,
                t.train_step_s / full.train_step_s, static_cast<double>(batch) / t.eval_forward_s,
                t.eval_forward_s / probe.eval_forward_s);
  }
  return 0;
}
