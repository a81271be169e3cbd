#include "peft/named_tensors.h"

#include <ATen/core/grad_mode.h>

#include <map>
#include <set>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

void copy_named_tensors(const NamedTensors& targets, const NamedTensors& given, const std::string& component,
                        const std::string& what, const std::string& hint) {
  std::map<std::string, const at::Tensor*> by_name;
  for (const auto& [name, tensor] : targets) by_name.emplace(name, &tensor);

  std::vector<std::string> unexpected;
  std::vector<std::string> mismatched;
  std::set<std::string> seen;
  std::vector<std::pair<const at::Tensor*, const at::Tensor*>> copies;
  for (const auto& [name, tensor] : given) {
    const auto target = by_name.find(name);
    if (target == by_name.end()) {
      unexpected.push_back(name);
      continue;
    }
    seen.insert(name);
    if (target->second->sizes() != tensor.sizes()) {
      mismatched.push_back(name + " (file " + c10::str(tensor.sizes()) + ", expected " +
                           c10::str(target->second->sizes()) + ")");
    } else {
      copies.emplace_back(target->second, &tensor);
    }
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : targets) {
    if (seen.count(name) == 0) missing.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> problems;
    if (!missing.empty()) problems.push_back("missing keys: " + join(missing));
    if (!unexpected.empty()) problems.push_back("unexpected keys: " + join(unexpected));
    if (!mismatched.empty()) problems.push_back("shape mismatches: " + join(mismatched));
    throw Error(component, what + ": " + join(problems, "; ") + (hint.empty() ? "" : " (" + hint + ")"));
  }
  at::NoGradGuard no_grad;
  for (const auto& [target, source] : copies) target->copy_(*source);
}

}  // namespace peft
