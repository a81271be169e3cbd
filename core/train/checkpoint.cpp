#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <mutex>

#include "adapter_file.h"
#include "peft/error.h"
#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

const std::string kModel = "model.";
const std::string kOptimizer = "optimizer.";
const std::string kRng = "rng.cpu";

}  // namespace

void save_checkpoint(const fs::path& file, AdaptedModel& model, const Optimizer& optimizer,
                     const TrainingProgress& progress) {
  NamedTensors tensors;
  for (auto& [name, tensor] : adapter_tensors(model)) tensors.emplace_back(kModel + name, tensor.detach().cpu());
  for (auto& [name, tensor] : optimizer.state()) tensors.emplace_back(kOptimizer + name, tensor.cpu());
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    tensors.emplace_back(kRng, generator.get_state());
  }
  std::map<std::string, std::string> metadata = progress_fields(progress);
  metadata["format"] = "pt";
  write_safetensors(file, tensors, metadata);
}

TrainingProgress load_checkpoint(const fs::path& file, AdaptedModel& model, Optimizer& optimizer) {
  if (!fs::exists(file)) {
    throw Error("checkpoint",
                file.string() + " does not exist (was the run started with [output] checkpoint = false?)");
  }
  const TensorFile loaded = read_safetensors(file);
  NamedTensors model_state;
  NamedTensors optimizer_state;
  const at::Tensor* rng = nullptr;
  for (const auto& [name, tensor] : loaded.tensors) {
    if (name.rfind(kModel, 0) == 0) {
      model_state.emplace_back(name.substr(kModel.size()), tensor);
    } else if (name.rfind(kOptimizer, 0) == 0) {
      optimizer_state.emplace_back(name.substr(kOptimizer.size()), tensor);
    } else if (name == kRng) {
      rng = &tensor;
    }
  }
  load_adapter_tensors(model, model_state, file.string());
  optimizer.load_state(optimizer_state, file.string());
  if (rng == nullptr) throw Error("checkpoint", file.string() + ": '" + kRng + "' is missing");
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(*rng);
  }
  return progress_from_fields(loaded.metadata, file.string());
}

}  // namespace peft
