// What each method costs per training step, side by side in one run: the chosen methods on the same backbone,
// batch, images and targets, timing whole training steps (forward, loss, backward, optimizer update) and
// evaluation forwards, interleaved round after round so that drift in the machine's speed hits every method alike.
// Prints images/s (median over rounds), each method's step relative to the first method listed, and its inference
// (unmerged, and merged where it merges) relative to the plain frozen backbone's.
// Usage: method_step [--variant vit_mini_patch4_32] [--batch 64] [--steps 5] [--rounds 3]
//                    [--methods linear_probe,bitfit,lora,full,gift] [--targets attn.proj] [--option gift.dim=48]...
//                    [--threads N (default: all cores)] [--device cpu|cuda]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "adapted_model.h"
#include "bench_util.h"
#include "memory_reuse.h"
#include "model_builder.h"
#include "peft/strings.h"
#include "plugin_loader.h"

namespace {

using peft::bench::median;
using peft::bench::seconds_per_call;

struct Bench {
  Bench(std::string method, peft::bench::TimedModel model) : name(std::move(method)), timed(std::move(model)) {}

  std::string name;
  peft::bench::TimedModel timed;
  std::vector<double> train_s;
  std::vector<double> eval_s;
  std::vector<double> merged_eval_s;  // after merge(), for methods that merge
};

}  // namespace

int main(int argc, char** argv) {
  peft::keep_freed_memory();  // as the peft command does
  std::string variant = "vit_mini_patch4_32";
  std::int64_t batch = 64;
  int steps = 5;
  int rounds = 3;
  int threads = static_cast<int>(std::thread::hardware_concurrency());  // as the trainer does by default
  std::vector<std::string> methods{"linear_probe", "bitfit", "lora", "full", "gift"};
  std::vector<std::string> targets;
  at::Device device(at::kCPU);
  std::map<std::string, std::map<std::string, peft::OptionValue>> options;  // method → option → value
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--variant") variant = value;
    if (flag == "--batch") batch = std::stoll(value);
    if (flag == "--steps") steps = std::stoi(value);
    if (flag == "--rounds") rounds = std::stoi(value);
    if (flag == "--threads") threads = std::stoi(value);
    if (flag == "--device") device = at::Device(value);
    if (flag == "--methods") methods = peft::split(value, ',');
    if (flag == "--targets") targets = peft::split(value, ',');
    if (flag == "--option") {  // method.key=integer
      const auto dot = value.find('.');
      const auto equals = value.find('=');
      options[value.substr(0, dot)][value.substr(dot + 1, equals - dot - 1)] = std::stoll(value.substr(equals + 1));
    }
  }
  at::set_num_threads(threads);
  const peft::PluginSet plugins = peft::discover_plugins({}, true);
  const peft::BackboneSection backbone = peft::bench::vit_section(variant);
  const std::int64_t size =
      peft::build_backbone(plugins.registry, backbone).backbone->image_input()->preprocessing().image_size;
  at::manual_seed(0);
  const at::Tensor images = at::randn({batch, 3, size, size}).to(device);
  const at::Tensor labels = at::randint(0, 5, {batch}).to(device);
  // The backbone on the device before the method is attached (its tensors are made there, as in peft run).
  const auto backbone_on_device = [&] {
    auto built = peft::build_backbone(plugins.registry, backbone).backbone;
    built->to(device);
    return built;
  };
  const auto per_call = [&](auto&& run) { return seconds_per_call(steps, run, device); };

  std::vector<Bench> benches;
  for (const auto& name : methods) {
    peft::MethodSection method;
    method.plugin = name;
    method.context = "bench";
    method.targets = targets;
    method.options = options[name];
    benches.emplace_back(name, peft::bench::TimedModel(peft::adapt(plugins.registry, backbone_on_device(), method)));
  }
  // The plain frozen backbone's inference: what a merged model should cost.
  auto plain = backbone_on_device();
  plain->eval();
  std::vector<double> plain_eval_s;
  const auto plain_forward = [&] {
    at::NoGradGuard no_grad;
    plain->forward({{peft::keys::images, images}});
  };
  plain_forward();
  for (auto& b : benches) {  // warm-up
    b.timed.train_step(images, labels);
    b.timed.eval_forward(images);
  }
  for (int round = 0; round < rounds; ++round) {
    for (auto& b : benches) {
      b.train_s.push_back(per_call([&] { b.timed.train_step(images, labels); }));
      b.eval_s.push_back(per_call([&] { b.timed.eval_forward(images); }));
      peft::Method& method = *b.timed.model->method;
      if (method.merge_refusal().empty()) {
        method.merge();
        b.merged_eval_s.push_back(per_call([&] { b.timed.eval_forward(images); }));
        method.unmerge();
      }
    }
    plain_eval_s.push_back(per_call(plain_forward));
  }

  std::printf("%s, batch %lld, targets %s, %d rounds x %d steps, %d torch threads\n", variant.c_str(),
              static_cast<long long>(batch), targets.empty() ? "(each method's default)" : peft::join(targets).c_str(),
              rounds, steps, at::get_num_threads());
  const double plain_eval = median(plain_eval_s);
  std::printf("frozen backbone inference: %.3f s a batch\n", plain_eval);
  std::printf("%-14s %12s %10s %12s %12s %10s %12s %14s\n", "method", "trainable", "step s", "train img/s",
              ("vs " + benches[0].name).c_str(), "eval s", "vs backbone", "merged vs bb");
  const double base_train = median(benches[0].train_s);
  for (const auto& b : benches) {
    const double train = median(b.train_s);
    const double eval = median(b.eval_s);
    char merged[32] = "(no merge)";
    if (!b.merged_eval_s.empty()) std::snprintf(merged, sizeof merged, "%.3fx", median(b.merged_eval_s) / plain_eval);
    std::printf("%-14s %12lld %10.3f %12.1f %11.3fx %10.3f %11.3fx %14s\n", b.name.c_str(),
                static_cast<long long>(b.timed.model->trainable_count()), train, static_cast<double>(batch) / train,
                train / base_train, eval, eval / plain_eval, merged);
  }
  return 0;
}
