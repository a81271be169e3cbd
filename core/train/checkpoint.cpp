#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <mutex>
#include <sstream>

#include "adapter_file.h"
#include "peft/error.h"
#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

const std::string kModel = "model.";
const std::string kOptimizer = "optimizer.";
const std::string kRng = "rng.cpu";

std::string metadata(const TensorFile& file, const std::string& key) {
  const auto found = file.metadata.find(key);
  if (found == file.metadata.end()) throw Error("checkpoint", file.source + ": metadata '" + key + "' is missing");
  return found->second;
}

// Round-trips exactly (std::to_string keeps 6 decimals).
std::string exact(double value) {
  std::ostringstream text;
  text.precision(17);
  text << value;
  return text.str();
}

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
  write_safetensors(file, tensors,
                    {{"format", "pt"},
                     {"epoch", std::to_string(progress.epoch)},
                     {"global_step", std::to_string(progress.global_step)},
                     {"best_top1", exact(progress.best_top1)},
                     {"best_epoch", std::to_string(progress.best_epoch)},
                     {"train_seconds", exact(progress.train_seconds)},
                     {"last_train_loss", exact(progress.last_train_loss)},
                     {"step_in_epoch", std::to_string(progress.step_in_epoch)},
                     {"epoch_loss_sum", exact(progress.epoch_loss_sum)},
                     {"epoch_correct", std::to_string(progress.epoch_correct)},
                     {"epoch_images", std::to_string(progress.epoch_images)}});
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
  TrainingProgress progress;
  try {
    progress.epoch = std::stoll(metadata(loaded, "epoch"));
    progress.global_step = std::stoll(metadata(loaded, "global_step"));
    progress.best_top1 = std::stod(metadata(loaded, "best_top1"));
    progress.best_epoch = std::stoll(metadata(loaded, "best_epoch"));
    progress.train_seconds = std::stod(metadata(loaded, "train_seconds"));
    progress.last_train_loss = std::stod(metadata(loaded, "last_train_loss"));
    if (loaded.metadata.count("step_in_epoch") != 0) {  // checkpoints written mid-epoch (on Ctrl-C)
      progress.step_in_epoch = std::stoll(metadata(loaded, "step_in_epoch"));
      progress.epoch_loss_sum = std::stod(metadata(loaded, "epoch_loss_sum"));
      progress.epoch_correct = std::stoll(metadata(loaded, "epoch_correct"));
      progress.epoch_images = std::stoll(metadata(loaded, "epoch_images"));
    }
  } catch (const std::logic_error&) {
    throw Error("checkpoint", file.string() + ": unreadable progress metadata");
  }
  return progress;
}

}  // namespace peft
