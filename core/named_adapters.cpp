#include "named_adapters.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <map>
#include <set>

#include "adapter_file.h"
#include "data/loader.h"
#include "peft/error.h"
#include "peft/site.h"
#include "run_files.h"
#include "run_setup.h"
#include "train/evaluate.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The first key set in one of `a` and `b` and not the same in the other; empty when none.
std::string differing_option(const std::map<std::string, OptionValue>& a, const std::map<std::string, OptionValue>& b) {
  for (const auto* pair : {&a, &b}) {
    const auto& other = pair == &a ? b : a;
    for (const auto& [key, value] : *pair) {
      const auto found = other.find(key);
      if (found == other.end() || found->second != value) return key;
    }
  }
  return {};
}

// The first key in which `other` would load another backbone or other data than `first`; empty when none.
std::string differing_key(const Recipe& first, const Recipe& other) {
  if (other.backbone.plugin != first.backbone.plugin) return "[backbone] plugin";
  if (other.backbone.checkpoint != first.backbone.checkpoint) return "[backbone] checkpoint";
  if (other.backbone.head != first.backbone.head) return "[backbone] head";
  if (const auto key = differing_option(first.backbone.options, other.backbone.options); !key.empty()) {
    return "[backbone] " + key;
  }
  if (other.task != first.task) return "task";
  if (other.data.has_value() != first.data.has_value()) return "[data]";
  if (other.data) {
    if (const auto key = differing_option(first.data->options, other.data->options); !key.empty())
      return "[data] " + key;
  }
  return {};
}

// The adapters each site has now, to take off again what attaching one run's method adds.
std::map<const SiteImpl*, std::set<const SiteAdapter*>> site_adapters(Backbone& backbone) {
  std::map<const SiteImpl*, std::set<const SiteAdapter*>> found;
  for (const auto& site : backbone.sites()) {
    for (const auto& adapter : site->adapters()) found[site.get()].insert(adapter.get());
  }
  return found;
}

}  // namespace

std::vector<NamedEvaluation> evaluate_runs(const Registry& registry, const std::vector<fs::path>& runs,
                                           const std::string& split, double& load_seconds) {
  if (runs.empty()) throw Error("eval", "no run folder given");
  std::vector<std::string> overrides;
  if (!split.empty()) overrides.push_back("data.eval_split=" + split);
  std::vector<Recipe> recipes;
  for (const auto& run : runs) {
    check_finished_run(run);
    recipes.push_back(load_recipe(run / kRecipeFile, overrides));
    if (!recipes.back().method) throw Error("eval", (run / kRecipeFile).string() + " has no [method] table");
    if (const std::string key = differing_key(recipes.front(), recipes.back()); !key.empty()) {
      throw Error("eval", run.string() + " was trained on another backbone or data than " + runs.front().string() +
                              " (its recipe.toml differs in " + key +
                              "): several runs are evaluated over one loaded backbone; evaluate it on its own");
    }
  }

  const auto load_start = std::chrono::steady_clock::now();
  PreparedRun base = prepare_run(registry, recipes.front(), std::nullopt, WithMethod::no);
  load_seconds = seconds_since(load_start);
  const Task& task = *base.task.task;
  const bool new_head = task.head_policy() == HeadPolicy::new_classifier;
  std::vector<NamedEvaluation> results;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto switch_start = std::chrono::steady_clock::now();
    check_backbone_weights(runs[i], base.backbone_weights);
    const auto before = site_adapters(*base.model.backbone);
    AdaptedModel model = adapt(registry, base.model.backbone, *recipes[i].method, new_head);
    // The backbone's own tensors among what the adapter file writes (its head, BitFit's biases, full fine-tuning's
    // weights), kept to put back afterwards.
    std::set<const void*> own;
    for (const auto& parameter : base.model.backbone->parameters()) own.insert(parameter.unsafeGetTensorImpl());
    std::vector<std::pair<at::Tensor, at::Tensor>> kept;
    {
      at::NoGradGuard no_grad;
      for (const auto& trainable : model.trainable) {
        if (own.count(trainable.tensor.unsafeGetTensorImpl()) != 0) {
          kept.emplace_back(trainable.tensor, trainable.tensor.clone());
        }
      }
    }
    load_adapter(runs[i], model);
    const double switch_seconds = seconds_since(switch_start);

    data::Loader loader(base.data->data.eval, base.data->eval_loader);
    results.push_back(
        {runs[i],
         {base.data->data.eval_split, task.metrics(), task.unit(), evaluate(model, task, loader, base.device)},
         switch_seconds});

    // Off again: the sites' new adapters, and every backbone tensor as it was.
    for (const auto& site : base.model.backbone->sites()) {
      std::vector<const SiteAdapter*> added;
      for (const auto& adapter : site->adapters()) {
        if (before.count(site.get()) == 0 || before.at(site.get()).count(adapter.get()) == 0) {
          added.push_back(adapter.get());
        }
      }
      for (const auto* adapter : added) site->detach(adapter);
    }
    at::NoGradGuard no_grad;
    for (auto& [tensor, value] : kept) tensor.copy_(value);
    for (auto& parameter : base.model.backbone->parameters()) parameter.set_requires_grad(false);
  }
  return results;
}

}  // namespace peft
