// TOAST against the official TOAST ViT's own logits, and VPT's token bookkeeping, through the Method API only.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>

#include "adapted_model.h"
#include "peft/backbone.h"
#include "peft/safetensors.h"
#include "peft/taps.h"
#include "support/batches.h"
#include "support/builtin_plugins.h"

namespace {

const std::string kFixtures = PEFT_REFERENCE_FIXTURE_DIR;

std::shared_ptr<peft::Backbone> reference_vit() {
  auto vit = peft::test::make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")}});
  vit->load_checkpoint(peft::read_safetensors(kFixtures + "/timm_vit_p4_s32.safetensors"));
  return vit;
}

peft::AdaptedModel adapted(std::shared_ptr<peft::Backbone> backbone, const std::string& method,
                           std::map<std::string, peft::OptionValue> options = {}) {
  peft::MethodSection section;
  section.plugin = method;
  section.context = "test [method]";
  section.options = std::move(options);
  return peft::adapt(peft::test::builtin_registry(), std::move(backbone), section);
}

}  // namespace

CATCH_TEST_CASE("toast reproduces the official TOAST ViT: pass-1 logits and the logits after the top-down pass") {
  const peft::TensorFile fixture = peft::read_safetensors(kFixtures + "/toast_official.safetensors");
  auto vit = reference_vit();
  peft::AdaptedModel model = adapted(vit, "toast");
  peft::NamedTensors top_down;
  for (const auto& [name, tensor] : fixture.tensors) {
    if (name != "input" && name.rfind("logits", 0) != 0) top_down.emplace_back("toast." + name, tensor);
  }
  model.method->load_adapter_state(top_down, "toast_official.safetensors");
  model.train(false);
  at::NoGradGuard no_grad;
  const at::Tensor input = fixture.at("input");
  CATCH_CHECK(peft::test::relative_error(vit->logits(peft::test::image_batch(input)), fixture.at("logits_pass1")) <=
              1e-5);
  CATCH_CHECK(peft::test::relative_error(model.logits(peft::test::image_batch(input)), fixture.at("logits")) <= 1e-5);
  CATCH_CHECK(model.method->forward_passes() == 2);
}

CATCH_TEST_CASE("toast trains about 2 L D^2 + D parameters in full mode, LoRA on the decoders in lite mode") {
  auto full = adapted(reference_vit(), "toast");
  CATCH_CHECK(full.trainable_count() - full.head_count() == 2 * 2 * 64 * 64 + 64);
  auto lite = adapted(reference_vit(), "toast", {{"mode", std::string("lite")}});
  // Rank-4 LoRA on both Linears of both decoders, the prompt and T.
  CATCH_CHECK(lite.trainable_count() - lite.head_count() == 2 * 2 * 2 * 4 * 64 + 64 + 64 * 64);
}

CATCH_TEST_CASE("vpt deep inserts n prompts after the class token and replaces them at every block; shallow keeps") {
  for (const bool deep : {true, false}) {
    auto vit = reference_vit();
    peft::AdaptedModel model = adapted(vit, "vpt", {{"tokens", std::int64_t{3}}, {"deep", deep}});
    CATCH_CHECK(model.trainable_count() - model.head_count() == (deep ? 2 : 1) * 3 * 64);  // L·n·D or n·D
    std::vector<at::Tensor> block_inputs;
    auto& taps = *vit->taps();
    auto hook = taps.hooks().block_input;
    taps.hooks().block_input = [&](std::int64_t block, const at::Tensor& tokens) {
      at::Tensor out = hook(block, tokens);
      block_inputs.push_back(out.detach());
      return out;
    };
    model.train(true);
    CATCH_CHECK_FALSE(vit->is_training());  // the backbone stays in evaluation mode
    const at::Tensor images = at::randn({2, 3, 32, 32});
    model.logits(peft::test::image_batch(images)).sum().backward();
    CATCH_REQUIRE(block_inputs.size() == 2);
    const at::Tensor prompts = model.trainable[0].tensor;  // [blocks or 1, 3, 64]
    for (std::size_t block = 0; block < 2; ++block) {
      CATCH_CHECK(block_inputs[block].size(1) == 1 + 3 + 64);  // [CLS, P1..P3, patches]
    }
    CATCH_CHECK(at::equal(block_inputs[0][0].slice(0, 1, 4), prompts[0]));
    if (deep) CATCH_CHECK(at::equal(block_inputs[1][0].slice(0, 1, 4), prompts[1]));
    if (!deep) CATCH_CHECK_FALSE(at::equal(block_inputs[1][0].slice(0, 1, 4), prompts[0]));  // block 0's outputs
    CATCH_CHECK(prompts.grad().defined());
    for (const auto& p : vit->named_parameters()) {
      if (p.key().rfind("head.", 0) != 0) CATCH_CHECK_FALSE(p.value().grad().defined());
    }
  }
}

CATCH_TEST_CASE("a toast pass that throws leaves no hook behind, and the next pass works") {
  auto vit = reference_vit();
  peft::AdaptedModel model = adapted(vit, "toast", {{"variational_loss", 0.1}});
  model.train(true);
  peft::TransformerHooks& hooks = vit->taps()->hooks();
  // 28×28 images do not fit the 32×32 position embedding: pass 1 throws with the variational hook installed.
  CATCH_CHECK_THROWS(model.logits(peft::test::image_batch(at::randn({2, 3, 28, 28}))));
  CATCH_CHECK_FALSE(static_cast<bool>(hooks.block_output));
  CATCH_CHECK_FALSE(static_cast<bool>(hooks.value_input));
  const at::Tensor images = at::randn({2, 3, 32, 32});
  CATCH_CHECK(model.logits(peft::test::image_batch(images)).sizes() ==
              vit->logits(peft::test::image_batch(images)).sizes());
  CATCH_CHECK(model.method->extra_loss().defined());
  CATCH_CHECK_FALSE(static_cast<bool>(hooks.block_output));
}
