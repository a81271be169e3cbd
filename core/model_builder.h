#pragma once

#include <memory>
#include <string>
#include <vector>

#include "peft/backbone.h"
#include "peft/registry.h"
#include "recipe.h"

namespace peft {

/// A backbone made from a recipe's `[backbone]` table, with what loading its checkpoint had to say.
struct BuiltBackbone {
  std::shared_ptr<Backbone> backbone;
  std::vector<std::string> notices;
};

/// Makes the backbone `section` names: its options checked against the plugin's declaration, then its checkpoint
/// (if any) read and loaded. Every problem is a peft::Error naming the recipe key or the checkpoint file.
BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& section);

}  // namespace peft
