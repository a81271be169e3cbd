#include "adapted_model.h"

#include <map>
#include <set>

#include "model_builder.h"
#include "peft/error.h"
#include "peft/site.h"
#include "peft/strings.h"
#include "selector.h"

namespace peft {
namespace {

std::int64_t count(const std::vector<TrainableTensor>& tensors, const std::set<std::string>& names, bool inside) {
  std::int64_t total = 0;
  for (const auto& trainable : tensors) {
    if ((names.count(trainable.name) != 0) == inside) total += trainable.tensor.numel();
  }
  return total;
}

// The method of a model without adapters.
class NoMethod final : public Method {
 public:
  void attach(Backbone&, const std::vector<Site>&) override {}
  std::vector<TrainableTensor> trainable_tensors() override { return {}; }
  bool uses_sites() const override { return false; }
  bool trains_head() const override { return false; }
  std::string merge_refusal() const override { return "there is nothing to merge"; }
};

}  // namespace

AdaptedModel unadapted(std::shared_ptr<Backbone> backbone) {
  AdaptedModel model;
  model.backbone = std::move(backbone);
  model.method = std::make_shared<NoMethod>();
  model.method_name = "none";
  for (auto& parameter : model.backbone->parameters()) parameter.set_requires_grad(false);
  return model;
}

std::int64_t AdaptedModel::trainable_count() const { return count(trainable, {}, false); }

std::int64_t AdaptedModel::head_count() const {
  return count(trainable, std::set<std::string>(head_names.begin(), head_names.end()), true);
}

std::int64_t AdaptedModel::backbone_count() const {
  std::int64_t total = 0;
  for (const auto& parameter : backbone->parameters()) total += parameter.numel();
  return total;
}

AdaptedModel adapt(const Registry& registry, std::shared_ptr<Backbone> backbone, const MethodSection& section,
                   bool head_may_train) {
  const MethodEntry& entry = plugin_entry(registry.methods(), section);
  AdaptedModel model;
  model.backbone = std::move(backbone);
  model.method_name = section.plugin;
  model.method_options =
      resolve_options(entry.options, section.options, section.options_where(), section.option_contexts);
  model.method = built_by_plugin(section, "method", [&] { return entry.create(model.method_options); });

  std::vector<Site> all_sites = model.backbone->sites();
  std::vector<std::string> names;
  for (const auto& site : all_sites) names.push_back(site->site_name());
  std::vector<std::string> targets = section.targets;
  if (targets.empty()) targets = model.method->default_targets(*model.backbone);
  if (!names.empty() || !targets.empty()) {
    // Patterns are checked even for a method that adapts no site, so a typo is still an error.
    model.site_names = select_sites(names, targets.empty() ? std::vector<std::string>{"**"} : targets, section.exclude);
    if (!model.method->uses_sites()) model.site_names.clear();
  }
  std::vector<Site> selected;
  for (const auto& site : all_sites) {
    if (std::find(model.site_names.begin(), model.site_names.end(), site->site_name()) != model.site_names.end()) {
      selected.push_back(site);
    }
  }
  built_by_plugin(section, "method", [&] { model.method->attach(*model.backbone, selected); });

  for (auto& parameter : model.backbone->parameters()) parameter.set_requires_grad(false);
  std::set<std::string> seen;
  std::map<const void*, std::string> name_of;  // each tensor trains once, under one name
  for (auto& trainable : model.method->trainable_tensors()) {
    if (!seen.insert(trainable.name).second) {
      throw Error(section.plugin, "the method names two trainable tensors '" + trainable.name + "'");
    }
    const auto [known, added] = name_of.emplace(trainable.tensor.unsafeGetTensorImpl(), trainable.name);
    if (!added) {
      throw Error(section.plugin, "the method returns one tensor under two names, '" + known->second + "' and '" +
                                      trainable.name + "' (it would train and be saved twice)");
    }
    model.trainable.push_back(std::move(trainable));
  }
  if (head_may_train && model.method->trains_head()) {
    for (auto& [name, tensor] : model.backbone->head_parameters()) {
      model.head_names.push_back(name);
      // A method that trains the backbone's own tensors (full fine-tuning) already lists the head's.
      if (seen.insert(name).second && name_of.count(tensor.unsafeGetTensorImpl()) == 0) {
        model.trainable.push_back({name, tensor, true});
      }
    }
  }
  if (model.trainable.empty() && !head_may_train) {
    throw Error(section.plugin, section.context + ": method '" + section.plugin +
                                    "' trains nothing here: it trains only the head, and the task keeps the "
                                    "backbone's own head frozen");
  }
  for (auto& trainable : model.trainable) trainable.tensor.set_requires_grad(true);
  return model;
}

}  // namespace peft
