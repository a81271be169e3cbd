#include "run_setup.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
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
  const at::Device chosen(device);
  // A rank's own GPU (cuda:LOCAL_RANK) is also its current one, so nothing lands on cuda:0 by default.
  if (chosen.has_index()) c10::impl::getDeviceGuardImpl(at::kCUDA)->setDevice(chosen);
  return chosen;
}

PreparedRun prepare_run(const Registry& registry, Recipe recipe, std::optional<std::int64_t> num_classes,
                        WithMethod with_method) {
  PreparedRun run;
  const std::int64_t threads =
      recipe.threads > 0 ? recipe.threads : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  at::manual_seed(recipe.seed);
  run.device = resolve_device(recipe.device);
  if (!recipe.method && with_method == WithMethod::yes) {
    throw Error("recipe", recipe.file.string() + ": the recipe has no [method] table");
  }

  BuiltBackbone built = build_backbone(registry, recipe.backbone);
  run.task = choose_task(registry, recipe, *built.backbone);
  if (num_classes) {
    run.num_classes = *num_classes;
  } else {
    run.data = read_run_data(run.task, recipe, built);
    run.num_classes = run.data->data.num_classes;
    // Page-locked batches only for a GPU to copy them to (pinning needs CUDA).
    for (data::LoaderOptions* loader : {&run.data->train_loader, &run.data->eval_loader}) {
      loader->pin_memory = loader->pin_memory && run.device.is_cuda();
    }
  }
  const bool new_head = run.task.task->head_policy() == HeadPolicy::new_classifier;
  if (new_head) fit_head(built, recipe.backbone, run.num_classes);
  built.backbone->to(run.device);
  run.notices = std::move(built.notices);
  run.backbone_weights = built.weights;
  run.model_folder = built.model_folder;
  if (run.data) run.notices.insert(run.notices.end(), run.data->data.notices.begin(), run.data->data.notices.end());
  run.model = with_method == WithMethod::yes ? adapt(registry, built.backbone, *recipe.method, new_head)
                                             : unadapted(built.backbone);
  run.recipe = std::move(recipe);
  return run;
}

}  // namespace peft
