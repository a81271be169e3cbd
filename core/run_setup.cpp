#include "run_setup.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <thread>

#include "peft/error.h"

namespace peft {

at::Device resolve_device(const std::string& device) {
  if (device == "cpu") return at::kCPU;
  if (device == "auto") return torch::cuda::is_available() ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  if (!torch::cuda::is_available()) {
    throw Error("recipe",
                "device = \"" + device + "\", but this LibTorch sees no CUDA device (hint: device = \"auto\")");
  }
  return at::Device(device);
}

PreparedRun prepare_run(const Registry& registry, Recipe recipe, std::optional<std::int64_t> num_classes) {
  PreparedRun run;
  const std::int64_t threads =
      recipe.threads > 0 ? recipe.threads : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  at::manual_seed(recipe.seed);
  run.device = resolve_device(recipe.device);
  if (!recipe.method) throw Error("recipe", recipe.file.string() + ": the recipe has no [method] table");

  BuiltBackbone built = build_backbone(registry, recipe.backbone);
  check_image_classification(built, recipe.backbone);
  if (num_classes) {
    run.num_classes = *num_classes;
  } else {
    if (!recipe.data) throw Error("recipe", recipe.file.string() + ": the recipe has no [data] table");
    run.plan = data::plan_data(*recipe.data, recipe.file.parent_path(), built.preprocessing, recipe.seed,
                               recipe.train.batch_size);
    run.num_classes = run.plan->train.num_classes;
    if (run.plan->eval.num_classes != run.num_classes) {
      throw Error("data", recipe.data->context + ": the training split has " + std::to_string(run.num_classes) +
                              " classes but the evaluation split " + std::to_string(run.plan->eval.num_classes));
    }
  }
  fit_head(built, recipe.backbone, run.num_classes);
  built.backbone->to(run.device);
  run.notices = std::move(built.notices);
  run.backbone_weights = built.weights;
  if (run.plan) run.notices.insert(run.notices.end(), run.plan->notices.begin(), run.plan->notices.end());
  run.model = adapt(registry, built.backbone, *recipe.method);
  run.recipe = std::move(recipe);
  return run;
}

}  // namespace peft
