// GIFT against the official hyper-network's own output, and the properties docs/gift.md requires of ours.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>

#include "generator.h"
#include "gift.h"
#include "peft/backbone.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "support/batches.h"
#include "support/builtin_plugins.h"

namespace {

using peft::gift::GiftOptions;

std::int64_t numel(const torch::nn::Module& module) {
  std::int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

std::shared_ptr<peft::Backbone> tiny_vit() {
  return peft::test::make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")},
                                           {"img_size", std::int64_t{8}},
                                           {"num_classes", std::int64_t{3}}});
}

}  // namespace

CATCH_TEST_CASE("the paca generator reproduces the official GIFT hyper-network's dW and cluster assignment") {
  const peft::TensorFile fixture =
      peft::read_safetensors(std::string(PEFT_REFERENCE_FIXTURE_DIR) + "/gift_paca_official.safetensors");
  GiftOptions options;
  options.dim = 8;
  options.clusters = 6;
  options.heads = 2;
  options.blocks = 2;
  options.positional_encoding = false;
  peft::gift::Generator generator(48, 40, options);
  peft::NamedTensors weights{{"reduction.weight", fixture.at("P")}, {"recovery.weight", fixture.at("Q")}};
  const std::string prefix = "hypernet.";
  for (const auto& [name, tensor] : fixture.tensors) {
    if (name.rfind(prefix, 0) == 0) weights.emplace_back(name.substr(prefix.size()), tensor);
  }
  peft::load_state_dict(*generator, weights, "gift_paca_official.safetensors");

  at::NoGradGuard no_grad;
  at::Tensor assignment;
  const at::Tensor delta = generator->delta(generator->body(fixture.at("W"), &assignment));
  CATCH_CHECK(peft::test::relative_error(delta, fixture.at("delta_W")) <= 1e-5);
  CATCH_CHECK(peft::test::relative_error(assignment, fixture.at("last_block_sigmoid_assignment")) <= 1e-5);
}

CATCH_TEST_CASE("the linear schema generates dW = W P^T Q^T") {
  GiftOptions options;
  options.schema = GiftOptions::Schema::linear;
  options.dim = 4;
  peft::gift::Generator generator(6, 5, options);
  at::NoGradGuard no_grad;
  generator->recovery->weight.normal_();
  const at::Tensor w = at::randn({3, 6, 5});
  const at::Tensor expected = w.matmul(generator->reduction->weight.t()).matmul(generator->recovery->weight.t());
  CATCH_CHECK(at::allclose(generator->delta(generator->body(w)), expected, 1e-5, 1e-6));
}

CATCH_TEST_CASE("the generator's parameter count follows docs/gift.md's formula for both schemas") {
  for (const auto schema : {GiftOptions::Schema::paca, GiftOptions::Schema::linear}) {
    for (const bool extras : {false, true}) {
      GiftOptions options;
      options.schema = schema;
      options.dim = 12;
      options.clusters = 5;
      options.blocks = 2;
      options.heads = 3;
      options.mlp_ratio = 2.0;
      options.positional_encoding = extras;
      options.reduction_bias = extras;
      options.recovery_bias = extras;
      peft::gift::Generator generator(20, 16, options);
      CATCH_CHECK(peft::gift::generator_parameter_count(20, 16, options) == numel(*generator));
    }
  }
  // docs/gift.md's number: linear at d = 16 on ViT-B/16's twelve attn.proj [768, 768] is 2 * 768 * 16.
  GiftOptions linear;
  linear.schema = GiftOptions::Schema::linear;
  linear.dim = 16;
  CATCH_CHECK(peft::gift::generator_parameter_count(768, 768, linear) == 24576);
}

CATCH_TEST_CASE(
    "gift generates dW once per step for all layers of a shape, and gradients reach Q, then P and the body") {
  auto backbone = tiny_vit();
  peft::gift::GiftOptions options;
  options.dim = 8;
  options.clusters = 4;
  peft::gift::Gift gift(options);
  gift.attach(*backbone, backbone->sites());  // 8 sites in 4 shapes, 2 layers each
  CATCH_REQUIRE(gift.groups().size() == 4);
  const at::Tensor images = at::randn({2, 3, 8, 8});

  gift.forward(*backbone, peft::test::image_batch(images)).at(peft::keys::logits).pow(2).mean().backward();
  for (const auto& group : gift.groups()) CATCH_CHECK(group->generator->body_calls() == 1);

  // Step 0: Q = 0, so only Q has a gradient; the rest sits behind it.
  const auto& generator = gift.groups()[0]->generator;
  CATCH_CHECK(generator->recovery->weight.grad().abs().sum().item<double>() > 0);
  CATCH_CHECK(generator->reduction->weight.grad().abs().sum().item<double>() == 0);
  {
    at::NoGradGuard no_grad;
    for (auto& t : gift.trainable_tensors()) {
      t.tensor.mutable_grad() = at::Tensor();
      if (t.name.find("recovery") != std::string::npos) t.tensor.normal_(0, 0.1);  // as after a step
    }
  }
  gift.forward(*backbone, peft::test::image_batch(images)).at(peft::keys::logits).pow(2).mean().backward();
  CATCH_CHECK(generator->body_calls() == 2);
  CATCH_CHECK(generator->reduction->weight.grad().abs().sum().item<double>() > 0);
  CATCH_CHECK(generator->blocks[0]->attn->cluster->weight.grad().abs().sum().item<double>() > 0);
  CATCH_CHECK(generator->blocks[0]->fc2->weight.grad().abs().sum().item<double>() > 0);
}

CATCH_TEST_CASE("gift marks the positional encoding and the cluster Linears as taking no weight decay") {
  auto backbone = tiny_vit();
  peft::gift::Gift gift(GiftOptions{});
  gift.attach(*backbone, {backbone->sites()[1]});
  std::vector<std::string> no_decay;
  for (const auto& t : gift.trainable_tensors()) {
    if (!t.decay) no_decay.push_back(t.name);
  }
  CATCH_CHECK(no_decay ==
              std::vector<std::string>{"gift.64x64.pos_embed", "gift.64x64.blocks.0.attn.cluster.cluster.weight"});
}

CATCH_TEST_CASE("gift explains each site with W P^T, the reduction's output, for both schemas (the official's)") {
  auto backbone = tiny_vit();
  const peft::Site proj = backbone->sites()[1];  // blocks.0.attn.proj [64, 64]
  GiftOptions linear;
  linear.schema = GiftOptions::Schema::linear;
  linear.dim = 4;
  peft::gift::Gift gift(linear);
  gift.attach(*backbone, {proj});
  const peft::NamedTensors matrices = gift.explain_matrices();
  CATCH_REQUIRE(matrices.size() == 1);
  CATCH_CHECK(matrices[0].first == "blocks.0.attn.proj");
  const at::Tensor expected = proj->weight.matmul(gift.groups()[0]->generator->reduction->weight.t());
  CATCH_CHECK(at::allclose(matrices[0].second, expected, 1e-5, 1e-6));

  auto other = tiny_vit();
  GiftOptions paca;
  paca.dim = 8;
  paca.clusters = 5;
  peft::gift::Gift clustered(paca);
  clustered.attach(*other, {other->sites()[1], other->sites()[5]});
  const peft::NamedTensors assignments = clustered.explain_matrices();
  CATCH_REQUIRE(assignments.size() == 2);
  CATCH_CHECK(assignments[1].first == "blocks.1.attn.proj");
  // d = 8 columns, not the 5 PaCa clusters: W Pᵀ of that layer (its reduction bias included, as the hooked output).
  const auto& reduction = clustered.groups()[0]->generator->reduction;
  at::Tensor reduced = other->sites()[5]->weight.matmul(reduction->weight.t());
  if (reduction->bias.defined()) reduced = reduced + reduction->bias;
  CATCH_CHECK(assignments[1].second.sizes() == at::IntArrayRef({64, 8}));
  CATCH_CHECK(at::allclose(assignments[1].second, reduced, 1e-5, 1e-6));
}

CATCH_TEST_CASE("after a step, the backbone called directly uses the new generator, not the last step's G") {
  auto backbone = tiny_vit();
  GiftOptions options;
  options.dim = 8;
  options.clusters = 4;
  peft::gift::Gift gift(options);
  gift.attach(*backbone, backbone->sites());
  const at::Tensor images = at::randn({2, 3, 8, 8});
  gift.forward(*backbone, peft::test::image_batch(images)).at(peft::keys::logits).pow(2).mean().backward();
  {
    at::NoGradGuard no_grad;  // a step: every generator parameter moves in place
    for (auto& t : gift.trainable_tensors()) t.tensor.add_(at::randn_like(t.tensor), 0.1);
  }
  const at::Tensor direct = backbone->logits(peft::test::image_batch(images));
  const at::Tensor through_method = gift.forward(*backbone, peft::test::image_batch(images)).at(peft::keys::logits);
  CATCH_CHECK(at::allclose(direct, through_method, 1e-6, 1e-6));
  {
    at::NoGradGuard no_grad;
    CATCH_CHECK(at::allclose(backbone->logits(peft::test::image_batch(images)), through_method, 1e-6, 1e-6));
  }

  // Two micro-batches before one step (gradient accumulation), the backbone called directly: each forward pass
  // gets a G of its own, so the second backward does not run through the first's freed graph.
  for (auto& t : gift.trainable_tensors()) t.tensor.mutable_grad() = at::Tensor();
  backbone->logits(peft::test::image_batch(images)).pow(2).mean().backward();
  const at::Tensor once = gift.groups()[0]->generator->recovery->weight.grad().clone();
  CATCH_CHECK_NOTHROW(backbone->logits(peft::test::image_batch(images)).pow(2).mean().backward());
  CATCH_CHECK(at::allclose(gift.groups()[0]->generator->recovery->weight.grad(), once * 2, 1e-5, 1e-7));
}
