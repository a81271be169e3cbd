// The contract suite (core/contract, `peft test-plugin`): every built-in method passes it on a tiny ViT, on an MLP
// without taps and on a tiny LM; and each check fails for a method with the flaw it is there to catch.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "adapted_model.h"
#include "contract/method_contract.h"
#include "contract/tiny_lm.h"
#include "peft/method.h"
#include "peft/site.h"
#include "peft/strings.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"

namespace {

using peft::contract::CheckResult;

std::string failures(const std::vector<CheckResult>& results) {
  std::string text;
  for (const auto& r : results) {
    if (!r.passed()) text += r.method + " on the " + r.backbone + ": " + r.check + ": " + r.failure + "\n";
  }
  return text;
}

enum class Flaw {
  none,
  merge_folds_nothing,
  starts_elsewhere,
  unattached_tensor,
  forgets_on_load,
  listed_twice,
  hf_config_names_no_module,
  hf_config_claims_lora,
  default_targets_of_another_backbone
};

// An offset per site (as sdk/examples/example_method), with one flaw switched on.
class Offset final : public peft::SiteAdapter {
 public:
  Offset(const peft::Site& site, Flaw flaw)
      : bias(site->bias), delta(flaw == Flaw::starts_elsewhere ? at::ones_like(bias) : at::zeros_like(bias)) {}
  at::Tensor output_delta(const at::Tensor&) override { return merged ? at::Tensor() : delta; }
  at::Tensor bias;
  at::Tensor delta;
  bool merged = false;
};

class FlawedMethod final : public peft::Method {
 public:
  explicit FlawedMethod(Flaw flaw) : flaw_(flaw) {}
  void attach(peft::Backbone&, const std::vector<peft::Site>& sites) override {
    for (const peft::Site& site : sites) {
      offsets_.emplace_back(site->site_name(), std::make_shared<Offset>(site, flaw_));
      site->attach(offsets_.back().second);
    }
  }
  std::vector<peft::TrainableTensor> trainable_tensors() override {
    std::vector<peft::TrainableTensor> tensors;
    for (const auto& [name, offset] : offsets_) tensors.push_back({name + ".offset", offset->delta});
    if (flaw_ == Flaw::unattached_tensor) tensors.push_back({"unused", unused_});
    if (flaw_ == Flaw::listed_twice) tensors.push_back({"again", offsets_.front().second->delta});
    return tensors;
  }
  // LLaMA's names, which the MLP has not.
  std::vector<std::string> default_targets(const peft::Backbone&) const override {
    if (flaw_ == Flaw::default_targets_of_another_backbone) return {"self_attn.k_proj"};
    return {};
  }
  std::string merge_refusal() const override { return {}; }
  void merge() override { fold(true); }
  void unmerge() override { fold(false); }
  void load_adapter_state(const peft::NamedTensors& state, const std::string& source) override {
    if (flaw_ != Flaw::forgets_on_load) Method::load_adapter_state(state, source);
  }
  // Hugging Face peft configs that lie: a module the model lacks, or LoRA where the tensors are offsets.
  std::string adapter_config_json() const override {
    if (flaw_ == Flaw::hf_config_names_no_module)
      return R"({"peft_type": "OFT", "feedforward_modules": ["no.such.module"]})";
    if (flaw_ == Flaw::hf_config_claims_lora) return R"({"peft_type": "LORA", "r": 1, "lora_alpha": 1})";
    return Method::adapter_config_json();
  }

 private:
  void fold(bool merge) {
    at::NoGradGuard no_grad;
    for (auto& [name, offset] : offsets_) {
      if (flaw_ != Flaw::merge_folds_nothing) offset->bias.add_(merge ? offset->delta : -offset->delta);
      offset->merged = merge;
    }
  }
  Flaw flaw_;
  at::Tensor unused_ = at::zeros({2});
  std::vector<std::pair<std::string, std::shared_ptr<Offset>>> offsets_;
};

std::vector<CheckResult> check_flawed(Flaw flaw) {
  peft::Registry registry;
  registry.add_method(
      {"flawed", "test", [flaw](const peft::Options&) { return std::make_shared<FlawedMethod>(flaw); }});
  // The MLP only: every site has a bias to fold into.
  auto fixtures = peft::contract::fixture_backbones(registry);
  fixtures.erase(std::remove_if(fixtures.begin(), fixtures.end(), [](const auto& f) { return f.name != "mlp"; }),
                 fixtures.end());
  return peft::contract::check_method(registry, "flawed", fixtures);
}

// Why the check named `check` failed ("" when it passed or did not run).
std::string failure_of(const std::vector<CheckResult>& results, const std::string& check) {
  for (const auto& r : results) {
    if (r.check == check) return r.failure;
  }
  return {};
}

// The checks that failed, by name.
std::vector<std::string> failed(const std::vector<CheckResult>& results) {
  std::vector<std::string> names;
  for (const auto& r : results) {
    if (!r.passed()) names.push_back(r.check);
  }
  return names;
}

}  // namespace

CATCH_TEST_CASE("the suite adapts with the options it is given, not only the defaults") {
  // A method whose flaw is an option: only the options passed to check_method can switch it on.
  peft::Registry registry;
  registry.add_method({"flawed",
                       "test",
                       [](const peft::Options& options) {
                         const bool flawed = options.get<std::string>("merge") == "folds nothing";
                         return std::make_shared<FlawedMethod>(flawed ? Flaw::merge_folds_nothing : Flaw::none);
                       },
                       {{"merge", peft::OptionType::string, peft::OptionValue(std::string("folds")), "test"}}});
  auto fixtures = peft::contract::fixture_backbones(registry);
  fixtures.erase(std::remove_if(fixtures.begin(), fixtures.end(), [](const auto& f) { return f.name != "mlp"; }),
                 fixtures.end());
  const auto defaults = peft::contract::check_method(registry, "flawed", fixtures);
  CATCH_CHECK(failures(defaults).empty());
  CATCH_CHECK(defaults.front().check == "is made with its default options");
  const auto given = peft::contract::check_method(registry, "flawed", fixtures,
                                                  {{"merge", peft::OptionValue(std::string("folds nothing"))}});
  CATCH_CHECK(given.front().check == "is made with the options given");
  CATCH_CHECK(failed(given) == std::vector<std::string>{"merged equals unmerged"});
}

CATCH_TEST_CASE("every built-in method keeps the contract on a tiny ViT, on an MLP without taps and on a tiny LM") {
  const auto& registry = peft::test::builtin_registry();
  // Every method plugin folder of the build is registered, so every one of them is checked below.
  const std::vector<std::string> built = peft::split(PEFT_BUILTIN_METHODS, ',');
  std::vector<std::string> registered = registry.methods().names();
  std::sort(registered.begin(), registered.end());
  CATCH_REQUIRE(registered == built);
  CATCH_REQUIRE(built.size() >= 7);  // gift, lora, toast, vpt, bitfit, linear_probe, full at least
  const auto fixtures = peft::contract::fixture_backbones(registry);
  CATCH_REQUIRE(fixtures.size() == 3);
  for (const auto& name : built) {
    CATCH_DYNAMIC_SECTION(name) {
      const auto results = peft::contract::check_method(registry, name, fixtures);
      CATCH_INFO(failures(results));
      CATCH_CHECK(failures(results).empty());
      std::map<std::string, int> per_backbone;
      for (const auto& r : results) ++per_backbone[r.backbone];
      CATCH_CHECK(per_backbone.size() == 3);  // each backbone was tried
    }
  }
  // What each method must refuse, it refuses.
  const auto toast = peft::contract::check_method(registry, "toast", fixtures);
  CATCH_CHECK(std::any_of(toast.begin(), toast.end(), [](const CheckResult& r) {
    return r.backbone == "mlp" && r.check == "refuses a backbone without transformer taps, saying so" && r.passed();
  }));
  const auto probe = peft::contract::check_method(registry, "linear_probe", fixtures);
  CATCH_CHECK(std::any_of(probe.begin(), probe.end(), [](const CheckResult& r) {
    return r.backbone == "tiny lm" && r.check == "refuses a frozen head when it trains only the head, saying so";
  }));
}

CATCH_TEST_CASE("each contract check fails for the flaw it is there to catch") {
  CATCH_CHECK(failed(check_flawed(Flaw::none)).empty());
  CATCH_CHECK(failed(check_flawed(Flaw::merge_folds_nothing)) == std::vector<std::string>{"merged equals unmerged"});
  CATCH_CHECK(failed(check_flawed(Flaw::starts_elsewhere)) == std::vector<std::string>{"starts equal to the backbone"});
  CATCH_CHECK(failed(check_flawed(Flaw::unattached_tensor)) ==
              std::vector<std::string>{"trains exactly its own tensors"});
  CATCH_CHECK(failed(check_flawed(Flaw::forgets_on_load)) ==
              std::vector<std::string>{"saves and loads its adapter file"});
  const std::string hf_check =
      "its Hugging Face peft adapter_config.json names its modules and reads back as the same model";
  const auto no_module = check_flawed(Flaw::hf_config_names_no_module);
  CATCH_CHECK(failed(no_module) == std::vector<std::string>{hf_check});
  CATCH_CHECK_THAT(failure_of(no_module, hf_check),
                   Catch::Contains("feedforward_modules names 'no.such.module', which is no module of the model"));
  const auto claims_lora = check_flawed(Flaw::hf_config_claims_lora);
  CATCH_CHECK(failed(claims_lora) == std::vector<std::string>{hf_check});
  CATCH_CHECK_THAT(failure_of(claims_lora, hf_check), Catch::Contains("no adapter tensors in it"));
  const auto elsewhere = check_flawed(Flaw::default_targets_of_another_backbone);
  CATCH_CHECK(failed(elsewhere) == std::vector<std::string>{"its default targets select sites here"});
  CATCH_CHECK_THAT(failure_of(elsewhere, "its default targets select sites here"), Catch::Contains("self_attn.k_proj"));
  // A config in peft's own format makes no Hugging Face claim: the check does not run.
  const auto plain = check_flawed(Flaw::none);
  CATCH_CHECK(std::none_of(plain.begin(), plain.end(), [&](const CheckResult& r) { return r.check == hf_check; }));
  // One tensor under two names would train and be saved twice: adapt refuses it, naming both.
  const auto twice = check_flawed(Flaw::listed_twice);
  CATCH_CHECK(failed(twice) == std::vector<std::string>{"attaches to every site"});
  CATCH_CHECK_THAT(twice.back().failure, Catch::Contains("'fc1.offset'") && Catch::Contains("'again'"));
}

CATCH_TEST_CASE("a task that keeps the backbone's head frozen gets no head among the trainable tensors") {
  peft::MethodSection section;
  section.plugin = "lora";
  section.context = "test [method]";
  const auto model = peft::adapt(peft::test::builtin_registry(), std::make_shared<peft::contract::TinyLm>(), section,
                                 /*head_may_train=*/false);
  CATCH_CHECK(model.head_names.empty());
  CATCH_CHECK(model.head_count() == 0);
  for (const auto& t : model.trainable) CATCH_CHECK(t.name != "lm_head.weight");
}

CATCH_TEST_CASE(
    "the suite's adapter files go to a folder of its own under TMPDIR, removed after, nothing else touched") {
  peft::test::TempFolder folder;
  peft::test::write_text(folder / "users_file.txt", "mine");
  const char* before = std::getenv("TMPDIR");
  const std::string kept = before != nullptr ? before : "";
  setenv("TMPDIR", folder.path().c_str(), 1);
  const auto results = check_flawed(Flaw::none);
  if (before != nullptr) {
    setenv("TMPDIR", kept.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  CATCH_CHECK(failed(results).empty());
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(folder.path())) left.push_back(entry.path().filename());
  CATCH_CHECK(left == std::vector<std::string>{"users_file.txt"});
  std::ifstream in(folder / "users_file.txt");
  CATCH_CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "mine");
}
