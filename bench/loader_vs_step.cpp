// Is the data loader ever the bottleneck? Measures, side by side in one run:
//  - loader throughput: mini-vtab PNGs decoded and transformed to 224×224 (bilinear, normalised) with N workers;
//  - a ViT-B/16 training step (forward + backward, all parameters) on the same batch size.
// Prints images/s for both and their ratio. Usage: loader_vs_step [--workers 2] [--batch 8] [--batches 20]
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "bench_util.h"
#include "data/dataset.h"
#include "data/image_dataset.h"
#include "data/loader.h"
#include "data/mini_vtab.h"
#include "memory_reuse.h"
#include "model_builder.h"
#include "plugin_loader.h"

using peft::bench::seconds_since;

int main(int argc, char** argv) {
  peft::keep_freed_memory();  // as the peft command does
  int workers = 2;
  std::int64_t batch = 8;
  int batches = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batches")) batches = std::atoi(argv[i + 1]);
  }
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));  // as the trainer does
  const int threads = at::get_num_threads();
  const auto folder = std::filesystem::temp_directory_path() / ("peft_bench_" + std::to_string(::getpid()));
  peft::data::MiniVtabOptions build;
  build.out = folder;
  build.pretrain_images = 0;
  peft::data::build_mini_vtab(build);

  peft::data::LoaderOptions options;
  options.batch_size = batch;
  options.workers = workers;
  peft::data::ImageOptions images_224;
  images_224.transform.image_size = 224;
  peft::data::Loader loader(std::make_shared<peft::data::ImageDataset>(
                                peft::data::read_vtab1k_split(folder / "novel", "train800val200"), images_224),
                            options);
  loader.start_epoch(0);
  loader.next();  // warm-up
  auto start = std::chrono::steady_clock::now();
  std::int64_t images = 0;
  for (int i = 0; i < batches; ++i) {
    auto next = loader.next();
    if (!next) {
      loader.start_epoch(i + 1);
      next = loader.next();
    }
    images += next->size();
  }
  const double loader_rate = static_cast<double>(images) / seconds_since(start);
  std::filesystem::remove_all(folder);

  peft::PluginSet plugins = peft::discover_plugins({}, true);
  auto vit = peft::build_backbone(plugins.registry, peft::bench::vit_section("vit_base_patch16_224", 1000)).backbone;
  vit->train();
  const at::Tensor inputs = at::randn({batch, 3, 224, 224});
  const auto step = [&] {
    vit->zero_grad();
    vit->logits({{peft::keys::images, inputs}}).logsumexp(1).mean().backward();
  };
  step();  // warm-up
  start = std::chrono::steady_clock::now();
  const int steps = 2;
  for (int i = 0; i < steps; ++i) step();
  const double step_rate = static_cast<double>(batch * steps) / seconds_since(start);

  std::cout << "torch threads " << threads << ", loader workers " << workers << ", batch " << batch << "\n"
            << "loader (decode + transform to 224x224): " << loader_rate << " images/s\n"
            << "ViT-B/16 training step (forward + backward): " << step_rate << " images/s\n"
            << "loader / step throughput ratio: " << loader_rate / step_rate << "x\n";
  return 0;
}
