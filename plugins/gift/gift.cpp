#include "gift.h"

#include "peft/json_object.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/stack.h>
#include <peft/backbone.h>

#include <set>
#include <sstream>

namespace peft::gift {

void Group::generate() {
  g_ = generator->body(weights);
  g_versions_ = parameter_versions();
  g_grad_mode_ = at::GradMode::is_enabled();
  g_taken_.assign(site_weights.size(), false);
}

std::vector<std::int64_t> Group::parameter_versions() const {
  std::vector<std::int64_t> versions;
  for (const auto& parameter : generator->parameters()) versions.push_back(parameter._version());
  return versions;
}

torch::Tensor Group::g_of(std::int64_t index) {
  const auto slot = static_cast<std::size_t>(index);
  if (!g_.defined() || g_taken_[slot] || g_grad_mode_ != at::GradMode::is_enabled() ||
      g_versions_ != parameter_versions()) {
    generate();
  }
  g_taken_[slot] = true;
  return g_.select(0, index);
}

torch::Tensor GiftAdapter::output_delta(const torch::Tensor& input) {
  if (group_->merged) return {};
  const auto dtype = input.scalar_type();
  const torch::Tensor g = group_->g_of(index_).to(dtype);  // [N, d]
  const auto& recovery = group_->generator->recovery;
  torch::Tensor out = input.matmul(recovery->weight.to(dtype)).matmul(g.t());  // (x Q) Gᵀ
  if (recovery->bias.defined()) out = out + input.matmul(recovery->bias.to(dtype)).unsqueeze(-1);
  return out;
}

void Gift::attach(Backbone&, const std::vector<Site>& sites) {
  std::map<std::pair<std::int64_t, std::int64_t>, std::shared_ptr<Group>> by_shape;
  std::map<Group*, std::vector<Site>> members;
  for (const auto& site : sites) {
    auto& group = by_shape[{site->out_features(), site->in_features()}];
    if (!group) {
      group = std::make_shared<Group>();
      group->name = std::to_string(site->out_features()) + "x" + std::to_string(site->in_features());
      groups_.push_back(group);
    }
    members[group.get()].push_back(site);
  }
  for (auto& group : groups_) {
    std::vector<torch::Tensor> weights;
    for (const auto& site : members[group.get()]) {
      weights.push_back(site->weight.detach().to(torch::kFloat32));
      group->site_weights.push_back(site->weight);
      group->site_names.push_back(site->site_name());
    }
    group->weights = at::stack(weights);  // a copy: merge changes the sites' weights
    const auto& first = members[group.get()].front();
    group->generator = Generator(first->out_features(), first->in_features(), options_);
    group->generator->to(first->weight.device());  // float32 whatever the backbone's dtype (docs/gift.md §3)
    std::int64_t index = 0;
    for (const Site& site : members[group.get()]) site->attach(std::make_shared<GiftAdapter>(group, index++));
  }
}

std::vector<TrainableTensor> Gift::trainable_tensors() {
  std::vector<TrainableTensor> tensors;
  for (const auto& group : groups_) {
    std::set<const void*> no_decay;
    for (const torch::Tensor* tensor : group->generator->no_decay()) no_decay.insert(tensor->unsafeGetTensorImpl());
    for (const auto& item : group->generator->named_parameters()) {
      tensors.push_back({"gift." + group->name + "." + item.key(), item.value(),
                         no_decay.count(item.value().unsafeGetTensorImpl()) == 0});
    }
  }
  return tensors;
}

Outputs Gift::forward(Backbone& backbone, const Batch& batch) {
  for (auto& group : groups_) {
    if (!group->merged) group->generate();
  }
  return backbone.forward(batch);
}

void Gift::merge() {
  at::NoGradGuard no_grad;
  for (auto& group : groups_) {
    if (group->merged) continue;
    const torch::Tensor delta = group->generator->delta(group->generator->body(group->weights));
    for (std::size_t l = 0; l < group->site_weights.size(); ++l) {
      auto& weight = group->site_weights[l];
      weight.copy_(group->weights[static_cast<std::int64_t>(l)].add(delta[static_cast<std::int64_t>(l)]));
    }
    group->merged = true;
  }
}

void Gift::unmerge() {
  at::NoGradGuard no_grad;
  for (auto& group : groups_) {
    if (!group->merged) continue;
    for (std::size_t l = 0; l < group->site_weights.size(); ++l) {
      group->site_weights[l].copy_(group->weights[static_cast<std::int64_t>(l)]);
    }
    group->merged = false;
  }
}

NamedTensors Gift::explain_matrices() {
  at::NoGradGuard no_grad;
  NamedTensors matrices;
  for (auto& group : groups_) {
    // The official visualiser's clusters for both schemas: the reduction's output W Pᵀ [L, d_out, d], whose d
    // columns are directions in the layer's output space. The last PaCa block's σ(S) is not used: its entries sit
    // near one value over the d_out rows, so Y σ(S) gave every layer one channel-sum map K times (docs/gift.md §7).
    const torch::Tensor c = group->generator->reduction(group->weights.to(torch::kFloat32));
    for (std::size_t l = 0; l < group->site_names.size(); ++l) {
      matrices.emplace_back(group->site_names[l], c[static_cast<std::int64_t>(l)]);
    }
  }
  return matrices;
}

std::vector<LowRankDelta> Gift::low_rank_deltas() {
  at::NoGradGuard no_grad;
  std::vector<LowRankDelta> deltas;
  for (auto& group : groups_) {
    torch::Tensor g = group->generator->body(group->weights);  // [L, N, d], float32
    const auto& recovery = group->generator->recovery;
    torch::Tensor a = recovery->weight.t();  // Qᵀ [d, d_in]
    if (recovery->bias.defined()) {
      g = at::cat({g, at::ones({g.size(0), g.size(1), 1}, g.options())}, 2);
      a = at::cat({a, recovery->bias.unsqueeze(0)}, 0);
    }
    for (std::size_t l = 0; l < group->site_names.size(); ++l) {
      deltas.push_back({group->site_names[l], g[static_cast<std::int64_t>(l)].contiguous(), a.contiguous()});
    }
  }
  return deltas;
}

std::string Gift::adapter_config_json() const {
  // The host adds the method's name and options; GIFT adds how it grouped the sites.
  std::vector<JsonObject> groups;
  for (const auto& group : groups_) {
    groups.push_back(JsonObject()
                         .add("shape", group->name)
                         .add("layers", static_cast<std::int64_t>(group->site_weights.size()))
                         .add("sites", group->site_names));
  }
  return JsonObject().add("groups", groups).text();
}

}  // namespace peft::gift
