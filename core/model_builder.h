#pragma once

#include <c10/util/Exception.h>

#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/registry.h"
#include "recipe.h"
#include "torch_errors.h"

namespace peft {

/// A backbone made from a recipe's `[backbone]` table, with what loading its checkpoint had to say.
struct BuiltBackbone {
  std::shared_ptr<Backbone> backbone;
  /// The backbone's preprocessing, with what a hub folder's pretrained_cfg sets instead.
  Preprocessing preprocessing;
  /// The safetensors file the weights were loaded from (a hub folder's model.safetensors), if any.
  std::optional<std::filesystem::path> weights;
  /// The Hugging Face model folder the backbone was configured from (its config.json's folder), with or without
  /// weights: what `peft merge` writes a model folder like.
  std::optional<std::filesystem::path> model_folder;
  std::vector<std::string> notices;
};

/// The registry entry of the plugin `section` names; a peft::Error naming the recipe table and the loaded plugins of
/// that kind when there is none.
template <class Interface>
const RegistryEntry<Interface>& plugin_entry(const RegistryTable<Interface>& table, const PluginSection& section);

/// Runs `build` (a plugin making its backbone or attaching its method); a LibTorch error there, such as an option too
/// large to allocate or sizes that do not fit, is the recipe's problem: a one-line peft::Error naming the table.
template <class Build>
auto built_by_plugin(const PluginSection& section, const std::string& what, Build&& build) -> decltype(build()) {
  try {
    return build();
  } catch (const c10::Error& e) {
    if (const auto bytes = failed_allocation_bytes(e)) {
      throw_allocation_failure(
          section.plugin, section.context + ": building the " + what, *bytes,
          "smaller sizes in " + section.context + (what == "backbone" ? " or the config.json it reads" : ""));
    }
    throw Error(section.plugin, section.context + ": cannot build the " + what + ": " + torch_reason(e));
  } catch (const std::bad_alloc&) {
    throw Error(section.plugin, section.context + ": cannot build the " + what + ": out of memory");
  }
}

/// Makes the backbone `section` names: its options checked against the plugin's declaration, then its checkpoint
/// (if any) read and loaded; a folder is read as a timm hub folder (core/hub_folder.h). Every problem is a peft::Error
/// naming the recipe key or the checkpoint file.
BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& section);

/// Makes the head fit `num_classes` (the data's): a fresh head unless the checkpoint's has that size and
/// `head = "keep"`. A `num_classes` option that disagrees is a peft::Error naming where it was written.
void fit_head(BuiltBackbone& built, const BackboneSection& section, std::int64_t num_classes);

}  // namespace peft
