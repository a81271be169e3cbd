#include "peft/dataset.h"

#include <ATen/ATen.h>

#include "peft/error.h"

namespace peft {

Dataset::~Dataset() = default;

Batch Dataset::collate(std::vector<Batch> examples) const { return stack_examples(examples); }

Batch stack_examples(const std::vector<Batch>& examples) {
  if (examples.empty()) {
    throw Error("data", "an empty batch (every example was left out) needs the dataset's own collate()");
  }
  Batch batch;
  for (const std::string& name : examples.front().names()) {
    std::vector<at::Tensor> parts;
    parts.reserve(examples.size());
    for (const Batch& example : examples) {
      const at::Tensor& part = example.at(name);
      if (!parts.empty() && part.sizes() != parts.front().sizes()) {
        throw Error("data", "cannot stack '" + name + "': examples of shapes " + c10::str(parts.front().sizes()) +
                                " and " + c10::str(part.sizes()) + " (the dataset must pad them in its collate())");
      }
      parts.push_back(part);
    }
    batch.set(name, at::stack(parts));
  }
  for (const Batch& example : examples) {
    if (example.names() != batch.names()) {
      throw Error("data", "cannot stack examples with different names: " + examples.front().names_text() + " and " +
                              example.names_text());
    }
  }
  return batch;
}

}  // namespace peft
