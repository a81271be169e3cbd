#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model_builder.h"
#include "recipe.h"

namespace peft {

/// One selected site as `peft inspect` shows it.
struct InspectedSite {
  std::string name;
  std::int64_t out_features = 0;
  std::int64_t in_features = 0;
  bool has_bias = false;
  std::int64_t parameters = 0;
};

/// What a recipe's model part amounts to before anything trains.
struct InspectReport {
  std::string backbone_plugin;
  std::int64_t backbone_parameters = 0;
  std::int64_t site_count = 0;
  std::vector<std::string> targets;
  std::vector<std::string> exclude;
  std::vector<InspectedSite> sites;
  /// The method plugin the recipe names (always loaded: an unknown one is an error).
  std::optional<std::string> method_plugin;
  /// With the method loaded: what it trains (the head at the backbone's current size) and whether it merges.
  std::optional<std::int64_t> trainable;
  std::optional<std::int64_t> trainable_head;
  std::string merge_refusal;
  /// False for a method that adapts no site (the linear probe).
  bool uses_sites = true;
  /// The recipe's task, when inspected with its data, and the data's class count when a new head was sized for it.
  std::optional<std::string> task;
  std::optional<std::int64_t> num_classes;
  std::vector<std::string> notices;
};

/// The recipe whose task and data a model is inspected for: a new classifier head is sized for the data's class
/// count, as `peft run` would.
struct InspectData {
  Recipe recipe;
};

/// Builds the recipe's backbone (loading its checkpoint, if any), fits its head to `data`'s class count when given
/// (a note says so, or why the data could not be read and the checkpoint's head is shown), and selects the sites
/// its `[method]` targets (all sites when it names none); when the method's plugin is loaded, attaches it (its
/// options checked) to count what it trains. Selector errors name the pattern and the closest sites.
InspectReport inspect(const Registry& registry, const BackboneSection& backbone,
                      const std::optional<MethodSection>& method, const std::optional<InspectData>& data = {});

}  // namespace peft
