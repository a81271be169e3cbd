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

/// The registry entry of the plugin `section` names; a peft::Error naming the recipe table and the loaded plugins of
/// that kind when there is none.
template <class Interface>
const RegistryEntry<Interface>& plugin_entry(const RegistryTable<Interface>& table, const PluginSection& section);

/// Makes the backbone `section` names: its options checked against the plugin's declaration, then its checkpoint
/// (if any) read and loaded. Every problem is a peft::Error naming the recipe key or the checkpoint file.
BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& section);

/// Makes the head fit `num_classes` (the data's): a fresh head unless the checkpoint's has that size and
/// `head = "keep"`. A `num_classes` option that disagrees is a peft::Error naming where it was written.
void fit_head(BuiltBackbone& built, const BackboneSection& section, std::int64_t num_classes);

}  // namespace peft
