#include "contract/method_contract.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

#include "adapted_model.h"
#include "adapter_file.h"
#include "contract/hf_config_check.h"
#include "contract/mlp_backbone.h"
#include "contract/tiny_lm.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/taps.h"
#include "run_files.h"
#include "scratch_folder.h"

namespace peft::contract {
namespace {

Batch image_batch(const at::Tensor& images) { return {{keys::images, images}}; }

// A backbone made from `seed`: the same seed gives the same weights.
std::shared_ptr<Backbone> backbone_from(const FixtureBackbone& fixture, std::uint64_t seed) {
  at::manual_seed(seed);
  return fixture.make();
}

// What the suite checks: one method of a registry, with the options it is given.
struct Subject {
  const Registry& methods;
  const std::string& method;
  const std::map<std::string, OptionValue>& options;
  const std::filesystem::path& keep_configs;

  // The method's [method] table, targeting `targets`.
  MethodSection section(std::vector<std::string> targets) const {
    MethodSection section;
    section.plugin = method;
    section.context = "contract [method]";
    section.options_context = "contract --option";
    section.options = options;
    section.targets = std::move(targets);
    return section;
  }
};

AdaptedModel adapted(const Subject& subject, const FixtureBackbone& fixture, std::uint64_t seed) {
  auto backbone = backbone_from(fixture, seed);
  at::manual_seed(seed + 1000);
  // Every site: a method's own default targets may not exist on the MLP.
  return adapt(subject.methods, backbone, subject.section({"**"}), fixture.head_trains);
}

at::Tensor logits(AdaptedModel& model, const Batch& batch) {
  at::NoGradGuard no_grad;
  model.train(false);
  return model.logits(batch);
}

// Moves every trainable tensor away from its start, as training would (LoRA's B leaves zero); other seeds, other
// values (attaching reseeds, so each perturbation names its own).
void perturb(AdaptedModel& model, std::uint64_t seed) {
  at::NoGradGuard no_grad;
  at::manual_seed(seed);
  for (auto& trainable : model.trainable) trainable.tensor.add_(at::randn_like(trainable.tensor) * 0.1);
}

// Empty when `actual` is close to `expected` (as at::allclose), else how far apart they are.
std::string differs(const at::Tensor& actual, const at::Tensor& expected, double rtol, double atol,
                    const std::string& what) {
  if (actual.sizes() != expected.sizes()) {
    std::ostringstream out;
    out << what << " have shape " << actual.sizes() << ", expected " << expected.sizes();
    return out.str();
  }
  if (at::allclose(actual, expected, rtol, atol)) return {};
  std::ostringstream out;
  out << what << " differ by up to " << (actual - expected).abs().max().item<double>() << " (tolerance " << atol
      << " + " << rtol << " relative)";
  return out.str();
}

// Collects the results of one method on one backbone.
class Checks {
 public:
  Checks(std::vector<CheckResult>& results, std::string method, std::string backbone)
      : results_(results), method_(std::move(method)), backbone_(std::move(backbone)) {}

  /// Runs `check` (which returns why it failed, or nothing) and records it; true when it passed.
  template <typename Check>
  bool run(const std::string& name, Check&& check) {
    std::string failure;
    try {
      failure = check();
    } catch (const std::exception& e) {
      failure = std::string("threw: ") + e.what();
    }
    results_.push_back({method_, backbone_, name, failure});
    return failure.empty();
  }

 private:
  std::vector<CheckResult>& results_;
  std::string method_;
  std::string backbone_;
};

// Empty when `attempt` throws a peft::Error whose message contains `needle`.
template <typename Attempt>
std::string refuses(Attempt&& attempt, const std::string& needle) {
  try {
    attempt();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(needle) != std::string::npos) return {};
    return "refused with \"" + message + "\", which does not say '" + needle + "'";
  }
  return "did not refuse";
}

std::string starts_at_backbone(AdaptedModel& model, const FixtureBackbone& fixture) {
  auto plain = backbone_from(fixture, 1);
  plain->eval();
  at::NoGradGuard no_grad;
  return differs(logits(model, fixture.batch), plain->logits(fixture.batch), 1e-5, 1e-6,
                 "outputs of the adapted model and of the backbone");
}

std::string trains_only_its_own(AdaptedModel& model, const FixtureBackbone& fixture) {
  if (model.trainable.empty()) return "trains no tensor";
  std::set<const void*> trainable;
  for (const auto& t : model.trainable) trainable.insert(t.tensor.unsafeGetTensorImpl());
  model.train(true);
  model.logits(fixture.batch).pow(2).mean().backward();
  std::string failure;
  for (const auto& item : model.backbone->named_parameters()) {
    const bool trains = trainable.count(item.value().unsafeGetTensorImpl()) != 0;
    if (item.value().requires_grad() != trains && failure.empty()) {
      failure =
          "backbone tensor " + item.key() +
          (trains ? " trains but does not require grad" : " requires grad but is not among the trainable tensors");
    }
    if (!trains && item.value().grad().defined() && failure.empty())
      failure = "frozen backbone tensor " + item.key() + " got a gradient";
  }
  for (auto& t : model.trainable) {
    if (!t.tensor.grad().defined() && failure.empty()) failure = "trainable tensor " + t.name + " got no gradient";
    if (t.tensor.grad().defined()) t.tensor.mutable_grad() = at::Tensor();
  }
  return failure;
}

std::string same_from_seed(const Subject& subject, const FixtureBackbone& fixture) {
  AdaptedModel first = adapted(subject, fixture, 1);
  AdaptedModel second = adapted(subject, fixture, 1);
  const NamedTensors a = adapter_tensors(first);
  const NamedTensors b = adapter_tensors(second);
  if (a.size() != b.size())
    return "the adapter has " + std::to_string(a.size()) + " then " + std::to_string(b.size()) + " tensors";
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first) return "adapter tensor " + a[i].first + " came back as " + b[i].first;
    if (!at::equal(a[i].second, b[i].second)) return "adapter tensor " + a[i].first + " differs between two attaches";
  }
  return {};
}

// `from`'s adapter_config.json and adapter_model.safetensors copied into `to` (spaces in its name as '_'), each
// atomically.
void keep_config(const std::filesystem::path& from, std::filesystem::path to) {
  std::string name = to.filename().string();
  std::replace(name.begin(), name.end(), ' ', '_');
  to.replace_filename(name);
  std::filesystem::create_directories(to);
  for (const char* file : {kAdapterConfigFile, kAdapterTensorsFile}) {
    std::ifstream in(from / file, std::ios::binary);
    write_text_atomically(to / file, std::string(std::istreambuf_iterator<char>(in), {}));
  }
}

void check_on(const Subject& subject, const FixtureBackbone& fixture, std::vector<CheckResult>& results) {
  Checks checks(results, subject.method, fixture.name);
  std::shared_ptr<Method> probe;
  if (!checks.run(subject.options.empty() ? "is made with its default options" : "is made with the options given", [&] {
        const MethodEntry& entry = subject.methods.methods().at(subject.method);
        probe = entry.create(resolve_options(entry.options, subject.options, "contract --option"));
        return probe ? std::string() : std::string("its factory returned no method");
      })) {
    return;
  }
  if (probe->needs_taps() && backbone_from(fixture, 1)->taps() == nullptr) {
    checks.run("refuses a backbone without transformer taps, saying so",
               [&] { return refuses([&] { adapted(subject, fixture, 1); }, "taps"); });
    return;
  }
  if (!fixture.head_trains && !probe->uses_sites()) {
    checks.run("refuses a frozen head when it trains only the head, saying so",
               [&] { return refuses([&] { adapted(subject, fixture, 1); }, "trains nothing"); });
    return;
  }
  std::optional<AdaptedModel> model;
  if (!checks.run("attaches to every site", [&] {
        model = adapted(subject, fixture, 1);
        return std::string();
      })) {
    return;
  }
  // A recipe that names no targets gets the method's defaults: they must exist on every backbone (stated by role,
  // not by one backbone's names).
  checks.run("its default targets select sites here", [&] {
    adapt(subject.methods, backbone_from(fixture, 1), subject.section({}), fixture.head_trains);
    return std::string();
  });
  if (model->method->starts_at_backbone()) {
    checks.run("starts equal to the backbone", [&] { return starts_at_backbone(*model, fixture); });
  }
  checks.run("trains exactly its own tensors", [&] { return trains_only_its_own(*model, fixture); });
  checks.run("attaches the same adapter from the same seed", [&] { return same_from_seed(subject, fixture); });

  perturb(*model, 42);
  const at::Tensor before = logits(*model, fixture.batch);
  if (model->method->merge_refusal().empty()) {
    if (checks.run("merged equals unmerged", [&] {
          model->method->merge();
          return differs(logits(*model, fixture.batch), before, 1e-4, 1e-5, "merged and unmerged outputs");
        })) {
      checks.run("unmerging restores the model", [&] {
        model->method->unmerge();
        return differs(logits(*model, fixture.batch), before, 1e-4, 1e-5, "outputs after unmerging and before merging");
      });
    }
  } else {
    checks.run("refuses to merge with a peft::Error", [&] { return refuses([&] { model->method->merge(); }, ""); });
  }
  checks.run("saves and loads its adapter file", [&] {
    ScratchFolder folder("peft-contract", "contract");
    save_adapter(folder.path(), *model, fixture.name);
    AdaptedModel fresh = adapted(subject, fixture, 1);
    perturb(fresh, 43);  // other adapter values, so that only loading can make them equal
    load_adapter(folder.path(), fresh);
    return differs(logits(fresh, fixture.batch), before, 0, 0, "outputs of the loaded and the saved model");
  });
  ScratchFolder saved("peft-contract", "contract");
  bool hf_config = false;
  try {
    save_adapter(saved.path(), *model, fixture.name);
    hf_config = has_hf_config(saved.path());
    if (!subject.keep_configs.empty()) keep_config(saved.path(), subject.keep_configs / subject.method / fixture.name);
  } catch (const std::exception&) {
    // "saves and loads its adapter file" has failed with this already.
  }
  if (hf_config) {
    checks.run("its Hugging Face peft adapter_config.json names its modules and reads back as the same model", [&] {
      return hf_config_holds(
          saved.path(), *model, subject.methods, [&] { return backbone_from(fixture, 1); }, fixture.batch,
          fixture.head_trains, before);
    });
  }
  checks.run("a target that matches no site is an error naming it", [&] {
    return refuses(
        [&] {
          adapt(subject.methods, backbone_from(fixture, 1), subject.section({"no.such.site"}), fixture.head_trains);
        },
        "no.such.site");
  });
}

}  // namespace

std::vector<FixtureBackbone> fixture_backbones(const Registry& backbones) {
  std::vector<FixtureBackbone> fixtures;
  at::manual_seed(7);
  if (const BackboneEntry* found = backbones.backbones().find("vit")) {
    const BackboneEntry& vit = *found;
    const Options options = resolve_options(vit.options,
                                            {{"variant", std::string("vit_pico_patch4_32")},
                                             {"img_size", std::int64_t{8}},
                                             {"num_classes", std::int64_t{3}}},
                                            "contract [backbone]");
    fixtures.push_back(
        {"tiny vit", [&vit, options] { return vit.create(options); }, image_batch(at::randn({4, 3, 8, 8}))});
  }
  fixtures.push_back({"mlp", [] { return std::make_shared<MlpBackbone>(); }, image_batch(at::randn({4, 3, 2, 2}))});
  fixtures.push_back({"tiny lm", [] { return std::make_shared<TinyLm>(); },
                      Batch{{keys::input_ids, at::randint(16, {4, 5}, at::kLong)},
                            {keys::attention_mask, at::ones({4, 5}, at::kLong)}},
                      false});
  return fixtures;
}

std::vector<CheckResult> check_method(const Registry& methods, const std::string& method,
                                      const std::vector<FixtureBackbone>& backbones,
                                      const std::map<std::string, OptionValue>& options,
                                      const std::filesystem::path& keep_configs) {
  const Subject subject{methods, method, options, keep_configs};
  std::vector<CheckResult> results;
  for (const auto& fixture : backbones) check_on(subject, fixture, results);
  return results;
}

}  // namespace peft::contract
