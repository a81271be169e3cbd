#include "full.h"

#include <peft/backbone.h>

#include <algorithm>
#include <set>

namespace peft::full {

void FullFineTuning::attach(Backbone& backbone, const std::vector<Site>&) {
  std::set<std::string> head;
  for (const auto& [name, tensor] : backbone.head_parameters()) head.insert(name);
  const std::vector<std::string> no_decay = backbone.no_weight_decay();
  for (const auto& item : backbone.named_parameters()) {
    if (head.count(item.key()) != 0) continue;
    const bool decay = std::find(no_decay.begin(), no_decay.end(), item.key()) == no_decay.end();
    parameters_.push_back({item.key(), item.value(), decay});
  }
}

}  // namespace peft::full
