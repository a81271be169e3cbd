#include "peft/state_dict.h"
#include "peft/strings.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "peft/error.h"

namespace peft {
namespace {

std::string shape_text(const torch::Tensor& tensor) {
  std::ostringstream text;
  text << tensor.sizes();
  return text.str();
}

}  // namespace

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (auto& [name, tensor] : state_dict(module)) targets.emplace(name, tensor);

  std::vector<std::string> unexpected;
  std::vector<std::string> mismatched;
  std::map<std::string, const torch::Tensor*> matched;
  for (const auto& [name, tensor] : tensors) {
    const auto target = targets.find(name);
    if (target == targets.end()) {
      unexpected.push_back(name);
    } else if (target->second.sizes() != tensor.sizes()) {
      mismatched.push_back(name + " (checkpoint " + shape_text(tensor) + ", model " + shape_text(target->second) + ")");
    } else {
      matched.emplace(name, &tensor);
    }
  }
  std::vector<std::string> missing;
  for (const auto& entry : targets) {
    const std::string& name = entry.first;  // a plain reference: C++17 lambdas cannot capture structured bindings
    if (matched.count(name) == 0 && std::none_of(mismatched.begin(), mismatched.end(), [&](const std::string& m) {
          return m.compare(0, name.size() + 1, name + " ") == 0;
        })) {
      missing.push_back(name);
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string message = source + " does not fit the model:";
    if (!missing.empty()) message += " missing keys: " + join(missing) + ";";
    if (!unexpected.empty()) message += " unexpected keys: " + join(unexpected) + ";";
    if (!mismatched.empty()) message += " shape mismatches: " + join(mismatched) + ";";
    message.pop_back();
    throw Error("checkpoint", message);
  }

  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : matched) targets.at(name).copy_(*tensor);
}

}  // namespace peft
