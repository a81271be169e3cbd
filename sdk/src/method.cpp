#include "peft/method.h"

#include "peft/backbone.h"
#include "peft/error.h"

namespace peft {

// Out of line so the vtable and type information live in the SDK library only, shared by every plugin.
Method::~Method() = default;

std::vector<std::string> Method::default_targets(const Backbone&) const { return {}; }

void Method::train(Backbone& backbone, bool training) { backbone.train(training); }

Outputs Method::forward(Backbone& backbone, const Batch& batch) { return backbone.forward(batch); }

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
  NamedTensors targets;
  for (auto& trainable : trainable_tensors()) targets.emplace_back(trainable.name, trainable.tensor);
  copy_named_tensors(targets, state, "adapter", source + " does not fit the method");
}

NamedTensors Method::explain_matrices() { return {}; }

std::vector<LowRankDelta> Method::low_rank_deltas() { return {}; }

std::string Method::adapter_config_json() const { return "{}"; }

}  // namespace peft
