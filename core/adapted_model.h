#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "peft/backbone.h"
#include "peft/method.h"
#include "peft/registry.h"
#include "recipe.h"

namespace peft {

/// A backbone with a method attached: what `peft run`, `eval`, `merge` and the contract suite work on.
struct AdaptedModel {
  std::shared_ptr<Backbone> backbone;
  std::shared_ptr<Method> method;
  std::string method_name;
  /// The method's options after defaults, as `peft_adapter.json` records them.
  Options method_options;
  /// The selected sites, in forward order.
  std::vector<std::string> site_names;
  /// Everything that trains: the method's tensors, then the head's (when the method trains it). Only these require
  /// gradients.
  std::vector<TrainableTensor> trainable;
  /// Names in `trainable` that belong to the head.
  std::vector<std::string> head_names;

  Outputs forward(const Batch& batch) { return method->forward(*backbone, batch); }
  /// `forward`'s logits.
  at::Tensor logits(const Batch& batch) { return forward(batch).at(keys::logits); }
  void train(bool training) { method->train(*backbone, training); }

  std::int64_t trainable_count() const;
  std::int64_t head_count() const;
  std::int64_t backbone_count() const;
};

/// Attaches the method `section` names to `backbone`: resolves its options against the plugin's declaration, selects
/// the sites its targets name (the method's default targets when none, else all sites; a pattern that matches nothing
/// is a peft::Error listing the closest names), attaches, then freezes everything but the trainable tensors. The
/// backbone's head trains with the method when `head_may_train` (a new classifier head) and the method trains heads.
AdaptedModel adapt(const Registry& registry, std::shared_ptr<Backbone> backbone, const MethodSection& section,
                   bool head_may_train = true);

/// `backbone` alone, under a method that adds nothing and trains nothing: for evaluating a plain or merged
/// checkpoint with the same code path as an adapted model.
AdaptedModel unadapted(std::shared_ptr<Backbone> backbone);

}  // namespace peft
