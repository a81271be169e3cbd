#include "peft/named_tensors.h"

#include <ATen/core/grad_mode.h>

#include <map>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

std::vector<std::size_t> match_named_shapes(const NamedTensors& targets,
                                            const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& given,
                                            const std::string& component, const std::string& what,
                                            const std::string& hint) {
  std::map<std::string, std::size_t> target_index;
  for (std::size_t i = 0; i < targets.size(); ++i) target_index.emplace(targets[i].first, i);
  std::vector<std::size_t> matched(targets.size(), given.size());
  std::vector<std::string> unexpected;
  std::vector<std::string> mismatched;
  for (std::size_t g = 0; g < given.size(); ++g) {
    const auto& [name, shape] = given[g];
    const auto target = target_index.find(name);
    if (target == target_index.end()) {
      unexpected.push_back(name);
      continue;
    }
    const at::Tensor& tensor = targets[target->second].second;
    if (tensor.sizes() != at::IntArrayRef(shape)) {
      mismatched.push_back(name + " (file " + c10::str(at::IntArrayRef(shape)) + ", expected " +
                           c10::str(tensor.sizes()) + ")");
    }
    matched[target->second] = g;
  }
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (matched[i] == given.size()) missing.push_back(targets[i].first);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> problems;
    if (!missing.empty()) problems.push_back("missing keys: " + join(missing));
    if (!unexpected.empty()) problems.push_back("unexpected keys: " + join(unexpected));
    if (!mismatched.empty()) problems.push_back("shape mismatches: " + join(mismatched));
    throw Error(component, what + ": " + join(problems, "; ") + (hint.empty() ? "" : " (" + hint + ")"));
  }
  return matched;
}

void check_named_dtypes(const NamedTensors& targets, const std::vector<std::size_t>& matched,
                        const std::vector<std::pair<std::string, at::ScalarType>>& given, const std::string& component,
                        const std::string& what) {
  std::vector<std::string> mismatched;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& [name, dtype] = given[matched[i]];
    const at::ScalarType expected = targets[i].second.scalar_type();
    const bool fits = at::isFloatingType(expected) ? at::isFloatingType(dtype) : dtype == expected;
    if (!fits) {
      mismatched.push_back(name + " (file " + c10::toString(dtype) + ", expected " +
                           (at::isFloatingType(expected) ? std::string("floating point") : c10::toString(expected)) +
                           ")");
    }
  }
  if (!mismatched.empty()) throw Error(component, what + ": dtype mismatches: " + join(mismatched));
}

void copy_named_tensors(const NamedTensors& targets, const NamedTensors& given, const std::string& component,
                        const std::string& what, const std::string& hint) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
  for (const auto& [name, tensor] : given) shapes.emplace_back(name, tensor.sizes().vec());
  const std::vector<std::size_t> matched = match_named_shapes(targets, shapes, component, what, hint);
  std::vector<std::pair<std::string, at::ScalarType>> dtypes;
  for (const auto& [name, tensor] : given) dtypes.emplace_back(name, tensor.scalar_type());
  check_named_dtypes(targets, matched, dtypes, component, what);
  at::NoGradGuard no_grad;
  for (std::size_t i = 0; i < targets.size(); ++i) targets[i].second.copy_(given[matched[i]].second);
}

}  // namespace peft
