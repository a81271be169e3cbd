// IA3 as Hugging Face peft's IA3 layer computes it: l ⊙ (x Wᵀ + b) on a site, (x ⊙ l) Wᵀ + b on a feed-forward
// site, l initialised to ones; merged, W's rows (and b) or W's columns scaled by l. A hand-computed case.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "contract/mlp_backbone.h"
#include "peft/method.h"
#include "peft/site.h"
#include "support/builtin_plugins.h"

namespace {

std::shared_ptr<peft::Method> make_ia3() {
  const auto& entry = peft::test::builtin_registry().methods().at("ia3");
  return entry.create(peft::resolve_options(entry.options, {}, "test [method.options]"));
}

peft::Site site_2x2(const std::string& name) {
  peft::Site site(name, 2, 2);
  at::NoGradGuard no_grad;
  site->weight.copy_(at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2}));
  site->bias.copy_(at::tensor({1.0f, -1.0f}));
  return site;
}

}  // namespace

CATCH_TEST_CASE("ia3 scales a site's output, and a feed-forward site's input, as Hugging Face peft does") {
  auto method = make_ia3();
  peft::contract::MlpBackbone unused;
  peft::Site attention = site_2x2("blocks.0.attn.qkv");
  peft::Site feedforward = site_2x2("blocks.0.mlp.fc2");  // "fc2" is a default feed-forward module
  method->attach(unused, {attention, feedforward});
  const auto tensors = method->trainable_tensors();
  CATCH_REQUIRE(tensors.size() == 2);
  CATCH_CHECK(tensors[0].name == "blocks.0.attn.qkv.ia3_l");
  CATCH_CHECK(tensors[0].tensor.sizes() == at::IntArrayRef({2, 1}));  // [out, 1]
  CATCH_CHECK(tensors[1].name == "blocks.0.mlp.fc2.ia3_l");
  CATCH_CHECK(tensors[1].tensor.sizes() == at::IntArrayRef({1, 2}));  // [1, in]
  CATCH_CHECK(at::equal(tensors[0].tensor, at::ones({2, 1})));        // starts as the identity

  at::NoGradGuard no_grad;
  tensors[0].tensor.copy_(at::tensor({2.0f, 0.5f}).view({2, 1}));
  tensors[1].tensor.copy_(at::tensor({2.0f, 0.5f}).view({1, 2}));
  const at::Tensor x = at::tensor({1.0f, 1.0f}).view({1, 2});
  // x Wᵀ + b = [3, 7] + [1, -1] = [4, 6]; ⊙ [2, 0.5] = [8, 3].
  CATCH_CHECK(at::equal(attention->forward(x), at::tensor({8.0f, 3.0f}).view({1, 2})));
  // x ⊙ l = [2, 0.5]; ([2, 0.5] Wᵀ) + b = [3, 8] + [1, -1] = [4, 7].
  CATCH_CHECK(at::equal(feedforward->forward(x), at::tensor({4.0f, 7.0f}).view({1, 2})));

  // Merged: rows and bias of the attention site, columns of the feed-forward one; the same outputs.
  method->merge();
  CATCH_CHECK(at::equal(attention->weight, at::tensor({2.0f, 4.0f, 1.5f, 2.0f}).view({2, 2})));
  CATCH_CHECK(at::equal(attention->bias, at::tensor({2.0f, -0.5f})));
  CATCH_CHECK(at::equal(feedforward->weight, at::tensor({2.0f, 1.0f, 6.0f, 2.0f}).view({2, 2})));
  CATCH_CHECK(at::equal(feedforward->bias, at::tensor({1.0f, -1.0f})));
  CATCH_CHECK(at::equal(attention->forward(x), at::tensor({8.0f, 3.0f}).view({1, 2})));
  CATCH_CHECK(at::equal(feedforward->forward(x), at::tensor({4.0f, 7.0f}).view({1, 2})));
  method->unmerge();
  CATCH_CHECK(at::allclose(attention->weight, at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2})));

  // Hugging Face peft's IA3Config: every target, the feed-forward ones named.
  const auto config = nlohmann::json::parse(method->adapter_config_json());
  CATCH_CHECK(config["peft_type"] == "IA3");
  CATCH_CHECK(config["target_modules"] == nlohmann::json({"blocks.0.attn.qkv", "blocks.0.mlp.fc2"}));
  CATCH_CHECK(config["feedforward_modules"] == nlohmann::json({"blocks.0.mlp.fc2"}));
  CATCH_CHECK(config["init_ia3_weights"] == true);
}
