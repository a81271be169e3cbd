#include "peft/state_dict.h"

#include <ATen/core/grad_mode.h>

namespace peft {

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source) {
  copy_named_tensors(state_dict(module), tensors, "checkpoint", source + " does not fit the model");
}

void load_state_dict(torch::nn::Module& module, const CheckpointSource& source) {
  const NamedTensors targets = state_dict(module);
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
  std::vector<std::pair<std::string, at::ScalarType>> dtypes;
  for (const TensorInfo& info : source.tensors()) {
    shapes.emplace_back(info.name, info.shape);
    dtypes.emplace_back(info.name, info.dtype);
  }
  const std::string what = source.source() + " does not fit the model";
  const std::vector<std::size_t> matched = match_named_shapes(targets, shapes, "checkpoint", what);
  check_named_dtypes(targets, matched, dtypes, "checkpoint", what);
  at::NoGradGuard no_grad;
  for (std::size_t i = 0; i < targets.size(); ++i) source.read_into(shapes[matched[i]].first, targets[i].second);
}

}  // namespace peft
