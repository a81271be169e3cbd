// The contract every method plugin keeps, checked for each method the build registers (a new plugin gets this
// suite without new test code), on a tiny ViT, on a tiny MLP without transformer taps, and on a tiny causal LM over
// token ids whose LM head stays frozen (as a language-modelling task keeps it).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <set>

#include "adapted_model.h"
#include "adapter_file.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "support/batches.h"
#include "support/builtin_plugins.h"
#include "support/mlp_backbone.h"
#include "support/temp_folder.h"
#include "support/tiny_lm.h"

namespace {

using peft::AdaptedModel;

struct BackboneCase {
  std::string name;
  std::function<std::shared_ptr<peft::Backbone>()> make;
  peft::Batch batch;
  /// Whether the head trains with the method: a new classifier head does, an LM head does not.
  bool head_trains = true;
};

std::vector<BackboneCase> backbone_cases() {
  at::manual_seed(7);
  return {
      {"tiny vit",
       [] {
         return peft::test::make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")},
                                                  {"img_size", std::int64_t{8}},
                                                  {"num_classes", std::int64_t{3}}});
       },
       peft::test::image_batch(at::randn({4, 3, 8, 8}))},
      {"mlp", [] { return std::make_shared<peft::test::MlpBackbone>(); },
       peft::test::image_batch(at::randn({4, 3, 2, 2}))},
      {"tiny lm", [] { return std::make_shared<peft::test::TinyLm>(); },
       peft::Batch{{peft::keys::input_ids, at::randint(16, {4, 5}, at::kLong)},
                   {peft::keys::attention_mask, at::ones({4, 5}, at::kLong)}},
       false},
  };
}

// A backbone made from `seed`: the same seed gives the same weights.
std::shared_ptr<peft::Backbone> backbone_from(const BackboneCase& c, std::uint64_t seed) {
  at::manual_seed(seed);
  return c.make();
}

AdaptedModel adapted(const BackboneCase& c, const std::string& method, std::uint64_t seed) {
  auto backbone = backbone_from(c, seed);
  at::manual_seed(seed + 1000);
  peft::MethodSection section;
  section.plugin = method;
  section.context = "contract [method]";
  section.targets = {"**"};  // every site: a method's own default targets may not exist on the MLP
  return peft::adapt(peft::test::builtin_registry(), backbone, section, c.head_trains);
}

at::Tensor logits(AdaptedModel& model, const peft::Batch& batch) {
  at::NoGradGuard no_grad;
  model.train(false);
  return model.logits(batch);
}

// Moves every trainable tensor away from its start, as training would (LoRA's B leaves zero).
void perturb(AdaptedModel& model) {
  at::NoGradGuard no_grad;
  for (auto& trainable : model.trainable) trainable.tensor.add_(at::randn_like(trainable.tensor) * 0.1);
}

}  // namespace

CATCH_TEST_CASE("every method keeps the contract on a tiny ViT, on an MLP without taps and on a tiny LM") {
  const auto& registry = peft::test::builtin_registry();
  // Every method plugin folder of the build is registered, so every one of them is checked below.
  const std::vector<std::string> built = peft::split(PEFT_BUILTIN_METHODS, ',');
  std::vector<std::string> registered = registry.methods().names();
  std::sort(registered.begin(), registered.end());
  CATCH_REQUIRE(registered == built);
  CATCH_REQUIRE(built.size() >= 7);  // gift, lora, toast, vpt, bitfit, linear_probe, full at least
  for (const auto& entry : registry.methods().entries()) {
    for (const auto& c : backbone_cases()) {
      CATCH_DYNAMIC_SECTION(entry.name << " on the " << c.name) {
        // A method that needs transformer taps refuses a backbone without them, saying so.
        if (entry.create(peft::resolve_options(entry.options, {}, "contract"))->needs_taps() &&
            backbone_from(c, 1)->taps() == nullptr) {
          CATCH_CHECK_THROWS_WITH(adapted(c, entry.name, 1), Catch::Contains("taps"));
          continue;
        }
        // A method that trains only the head has nothing to train where the head stays frozen, and says so.
        if (!c.head_trains && !entry.create(peft::resolve_options(entry.options, {}, "contract"))->uses_sites()) {
          CATCH_CHECK_THROWS_WITH(adapted(c, entry.name, 1), Catch::Contains("trains nothing"));
          continue;
        }
        AdaptedModel model = adapted(c, entry.name, 1);
        if (!c.head_trains) CATCH_CHECK(model.head_count() == 0);

        // Starts at the backbone when it says so.
        if (model.method->starts_at_backbone()) {
          auto plain = backbone_from(c, 1);
          plain->eval();
          at::NoGradGuard no_grad;
          CATCH_CHECK(at::allclose(logits(model, c.batch), plain->logits(c.batch), 1e-5, 1e-6));
        }

        // Only the method's tensors (and the head) get gradients.
        std::set<const void*> trainable;
        for (const auto& t : model.trainable) trainable.insert(t.tensor.unsafeGetTensorImpl());
        CATCH_CHECK(!model.trainable.empty());
        model.train(true);
        model.logits(c.batch).pow(2).mean().backward();
        for (const auto& item : model.backbone->named_parameters()) {
          const bool trains = trainable.count(item.value().unsafeGetTensorImpl()) != 0;
          CATCH_CHECK(item.value().requires_grad() == trains);
          if (!trains) CATCH_CHECK_FALSE(item.value().grad().defined());
        }
        for (const auto& t : model.trainable) {
          CATCH_CHECK(t.tensor.grad().defined());
          if (t.tensor.grad().defined()) t.tensor.mutable_grad() = at::Tensor();
        }

        // Merged equals unmerged, and unmerging restores the model.
        perturb(model);
        const at::Tensor before = logits(model, c.batch);
        if (model.method->merge_refusal().empty()) {
          model.method->merge();
          CATCH_CHECK(at::allclose(logits(model, c.batch), before, 1e-4, 1e-5));
          model.method->unmerge();
          CATCH_CHECK(at::allclose(logits(model, c.batch), before, 1e-4, 1e-5));
        } else {
          CATCH_CHECK_THROWS_AS(model.method->merge(), peft::Error);
        }

        // Saving then loading into a fresh model gives the same outputs.
        peft::test::TempFolder folder;
        peft::save_adapter(folder.path(), model, c.name);
        AdaptedModel fresh = adapted(c, entry.name, 1);
        perturb(fresh);  // other adapter values, so that only loading can make them equal
        peft::load_adapter(folder.path(), fresh);
        CATCH_CHECK(at::equal(logits(fresh, c.batch), before));

        // A selector that matches nothing is an error naming the pattern.
        peft::MethodSection nothing;
        nothing.plugin = entry.name;
        nothing.targets = {"no.such.site"};
        CATCH_CHECK_THROWS_WITH(peft::adapt(registry, backbone_from(c, 1), nothing, c.head_trains),
                                Catch::Contains("no.such.site"));
      }
    }
  }
}
