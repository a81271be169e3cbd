#include "named_adapters.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "adapter_file.h"
#include "peft/error.h"
#include "peft/site.h"
#include "run_files.h"
#include "run_setup.h"

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

}  // namespace

AdapterSwitch::AdapterSwitch(const Registry& registry, std::vector<fs::path> runs,
                             const std::vector<std::string>& overrides, bool with_data)
    : registry_(registry), runs_(std::move(runs)) {
  if (runs_.empty()) throw Error("run", "no run folder given");
  for (const auto& run : runs_) {
    check_finished_run(run);
    recipes_.push_back(load_recipe(run / kRecipeFile, overrides));
    if (!recipes_.back().method) throw Error("run", (run / kRecipeFile).string() + " has no [method] table");
    if (const std::string key = differing_key(recipes_.front(), recipes_.back()); !key.empty()) {
      throw Error("run", run.string() + " was trained on another backbone or data than " + runs_.front().string() +
                             " (its recipe.toml differs in " + key +
                             "): several runs share one loaded backbone; use it on its own");
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const std::optional<std::int64_t> num_classes =
      with_data ? std::nullopt : std::optional<std::int64_t>(recorded_num_classes(runs_.front()));
  base_ = prepare_run(registry_, recipes_.front(), num_classes, WithMethod::no);
  load_seconds_ = seconds_since(start);
}

AdapterSwitch::~AdapterSwitch() = default;

void AdapterSwitch::deactivate() {
  if (!active_) return;
  for (auto& [site, had] : before_) {
    std::vector<const SiteAdapter*> added;
    for (const auto& adapter : site->adapters()) {
      if (std::find(had.begin(), had.end(), adapter.get()) == had.end()) added.push_back(adapter.get());
    }
    for (const auto* adapter : added) site->detach(adapter);
  }
  at::NoGradGuard no_grad;
  for (auto& [tensor, value] : kept_) tensor.copy_(value);
  for (auto& parameter : base_.model.backbone->parameters()) parameter.set_requires_grad(false);
  kept_.clear();
  before_.clear();
  active_.reset();
}

AdaptedModel& AdapterSwitch::combine(const std::vector<double>& weights, double& switch_seconds) {
  const auto start = std::chrono::steady_clock::now();
  if (weights.size() != runs_.size()) throw Error("run", "one weight per run is needed");
  std::map<std::string, at::Tensor> sum;  // site name → Σ wᵢ Bᵢ Aᵢ, float32
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    double ignored = 0;
    AdaptedModel& model = activate(i, ignored);
    if (!model.head_names.empty()) {
      throw Error("run", runs_[i].string() +
                             " trained a new classifier head: runs with their own heads cannot be "
                             "combined (one head would be wrong for the others)");
    }
    const auto deltas = model.method->low_rank_deltas();
    if (deltas.empty()) {
      throw Error("run", runs_[i].string() + ": method '" + model.method_name +
                             "' has no exact low-rank form; weighted combinations take LoRA and GIFT runs");
    }
    at::NoGradGuard no_grad;
    for (const auto& delta : deltas) {
      const at::Tensor term = delta.b.matmul(delta.a) * weights[i];
      auto [found, added] = sum.emplace(delta.site, term);
      if (!added) found->second = found->second + term;
    }
  }
  deactivate();
  at::NoGradGuard no_grad;
  for (const auto& site : base_.model.backbone->sites()) {
    const auto found = sum.find(site->site_name());
    if (found == sum.end()) continue;
    kept_.emplace_back(site->weight, site->weight.clone());
    site->weight.copy_(site->weight.to(at::kFloat).add(found->second.to(site->weight.device())));
  }
  active_ = unadapted(base_.model.backbone);
  switch_seconds = seconds_since(start);
  return *active_;
}

AdaptedModel& AdapterSwitch::activate(std::size_t i, double& switch_seconds) {
  const auto start = std::chrono::steady_clock::now();
  deactivate();
  check_backbone_weights(runs_.at(i), base_.backbone_weights);
  for (const auto& site : base_.model.backbone->sites()) {
    std::vector<const SiteAdapter*> had;
    for (const auto& adapter : site->adapters()) had.push_back(adapter.get());
    before_.emplace_back(site, std::move(had));
  }
  const bool new_head = base_.task.task->head_policy() == HeadPolicy::new_classifier;
  active_ = adapt(registry_, base_.model.backbone, *recipes_[i].method, new_head);
  std::set<const void*> own;
  for (const auto& parameter : base_.model.backbone->parameters()) own.insert(parameter.unsafeGetTensorImpl());
  {
    at::NoGradGuard no_grad;
    for (const auto& trainable : active_->trainable) {
      if (own.count(trainable.tensor.unsafeGetTensorImpl()) != 0) {
        kept_.emplace_back(trainable.tensor, trainable.tensor.clone());
      }
    }
  }
  load_adapter(runs_[i], *active_);
  switch_seconds = seconds_since(start);
  return *active_;
}

void parse_weighted_adapters(const std::vector<std::string>& specs, std::vector<fs::path>& runs,
                             std::vector<double>& weights) {
  for (const auto& spec : specs) {
    const auto colon = spec.rfind(':');
    double weight = 0;
    std::size_t used = 0;
    try {
      if (colon != std::string::npos) weight = std::stod(spec.substr(colon + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (colon == std::string::npos || colon == 0 || used == 0 || used != spec.size() - colon - 1 ||
        !std::isfinite(weight)) {
      throw Error("run", "--adapter " + spec + ": expected RUN_DIR:WEIGHT, e.g. runs/a:0.7");
    }
    runs.emplace_back(spec.substr(0, colon));
    weights.push_back(weight);
  }
}

std::vector<NamedEvaluation> evaluate_runs(const Registry& registry, const std::vector<fs::path>& runs,
                                           const std::vector<std::string>& overrides, double& load_seconds) {
  AdapterSwitch adapters(registry, runs, overrides, true);
  load_seconds = adapters.load_seconds();
  std::vector<NamedEvaluation> results;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    double switch_seconds = 0;
    AdaptedModel& model = adapters.activate(i, switch_seconds);
    results.push_back({runs[i], evaluate_on(adapters.base(), model), switch_seconds});
  }
  return results;
}

}  // namespace peft
