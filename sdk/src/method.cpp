#include "peft/method.h"

#include <ATen/core/grad_mode.h>

#include <map>

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

// Out of line so the vtable and type information live in the SDK library only, shared by every plugin.
Method::~Method() = default;

void Method::train(Backbone& backbone, bool training) { backbone.train(training); }

at::Tensor Method::forward(Backbone& backbone, const at::Tensor& images) { return backbone.forward(images); }

at::Tensor Method::extra_loss() { return {}; }

std::string Method::merge_refusal() const { return "this method does not implement merge"; }

void Method::merge() { throw Error("merge", merge_refusal()); }

void Method::unmerge() { throw Error("merge", merge_refusal()); }

NamedTensors Method::adapter_state() {
  NamedTensors state;
  for (auto& trainable : trainable_tensors()) state.emplace_back(trainable.name, trainable.tensor);
  return state;
}

void Method::load_adapter_state(const NamedTensors& state, const std::string& source) {
  std::map<std::string, at::Tensor> targets;
  for (auto& trainable : trainable_tensors()) targets.emplace(trainable.name, trainable.tensor);
  std::vector<std::string> problems;
  std::map<std::string, const at::Tensor*> found;
  for (const auto& [name, tensor] : state) {
    const auto target = targets.find(name);
    if (target == targets.end()) {
      problems.push_back("unexpected key " + name);
    } else if (target->second.sizes() != tensor.sizes()) {
      problems.push_back(name + " has shape " + c10::str(tensor.sizes()) + ", expected " +
                         c10::str(target->second.sizes()));
    } else {
      found.emplace(name, &tensor);
    }
  }
  for (const auto& entry : targets) {
    const std::string& name = entry.first;  // a plain reference: C++17 lambdas cannot capture structured bindings
    if (found.count(name) == 0 &&
        state.end() == std::find_if(state.begin(), state.end(), [&](const auto& item) { return item.first == name; })) {
      problems.push_back("missing key " + name);
    }
  }
  if (!problems.empty()) throw Error("adapter", source + " does not fit the method: " + join(problems, "; "));
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : found) targets.at(name).copy_(*tensor);
}

NamedTensors Method::explain_matrices() { return {}; }

std::string Method::adapter_config_json() const { return "{}"; }

}  // namespace peft
