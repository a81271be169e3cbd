#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <catch2/catch.hpp>

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "support/batches.h"
#include "support/builtin_plugins.h"

namespace fs = std::filesystem;
using peft::test::make_backbone;
using peft::test::relative_error;

namespace {

const fs::path kReference = PEFT_REFERENCE_FIXTURE_DIR;

// The architecture of timm_vit_p4_s32.safetensors (its __metadata__.config).
std::map<std::string, peft::OptionValue> fixture_options() {
  return {{"img_size", std::int64_t{32}}, {"patch_size", std::int64_t{4}}, {"embed_dim", std::int64_t{64}},
          {"depth", std::int64_t{2}},     {"num_heads", std::int64_t{2}},  {"num_classes", std::int64_t{5}}};
}

const peft::TensorFile& checkpoint() {
  static const peft::TensorFile file = peft::read_safetensors(kReference / "timm_vit_p4_s32.safetensors");
  return file;
}

const peft::TensorFile& io() {
  static const peft::TensorFile file = peft::read_safetensors(kReference / "timm_vit_p4_s32_io.safetensors");
  return file;
}

// `checkpoint()` with `name` removed, replaced by `replacement` (when defined), or `extra` added.
peft::TensorFile edited(const std::string& name, const at::Tensor& replacement = {}) {
  peft::TensorFile file;
  file.source = "edited.safetensors";
  for (const auto& [key, tensor] : checkpoint().tensors) {
    if (key != name) {
      file.tensors.emplace_back(key, tensor);
    } else if (replacement.defined()) {
      file.tensors.emplace_back(key, replacement);
    }
  }
  return file;
}

at::Tensor parameter(const peft::Backbone& backbone, const std::string& name) {
  for (const auto& [key, tensor] : peft::state_dict(backbone)) {
    if (key == name) return tensor;
  }
  return {};
}

}  // namespace

CATCH_TEST_CASE("vit reproduces timm's features, pre-logits and logits from timm's checkpoint") {
  auto vit = make_backbone("vit", fixture_options());
  CATCH_CHECK(vit->load_checkpoint(checkpoint()).empty());
  vit->eval();
  torch::NoGradGuard no_grad;
  const peft::Outputs outputs = vit->forward(peft::test::image_batch(io().at("input")));
  CATCH_CHECK(outputs.names() == std::vector<std::string>{"hidden", "logits"});
  CATCH_CHECK(relative_error(outputs.at(peft::keys::hidden), io().at("features")) <= 1e-5);
  CATCH_CHECK(relative_error(outputs.at(peft::keys::logits), io().at("logits")) <= 1e-5);
  vit->classifier()->reset_classifier(0);  // the logits are then the pooled features the head read
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(io().at("input"))), io().at("pre_logits")) <= 1e-5);
}

CATCH_TEST_CASE("a checkpoint for another image size gets timm's resampled position embedding") {
  auto options = fixture_options();
  options["img_size"] = std::int64_t{48};
  auto vit = make_backbone("vit", options);
  const auto notices = vit->load_checkpoint(checkpoint());
  CATCH_REQUIRE(notices.size() == 1);
  CATCH_CHECK(notices[0] == "position embedding resampled from 65 to 145 tokens");
  CATCH_CHECK(relative_error(parameter(*vit, "pos_embed"), io().at("pos_embed_resized")) <= 1e-5);
  vit->eval();
  torch::NoGradGuard no_grad;
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(io().at("input_resized"))),
                             io().at("logits_resized")) <= 1e-5);
}

CATCH_TEST_CASE("vit parameter names are timm's and its sites are every block's four Linears") {
  auto vit = make_backbone("vit", fixture_options());
  std::vector<std::string> names;
  for (const auto& [name, tensor] : peft::state_dict(*vit)) names.push_back(name);
  std::vector<std::string> expected;
  for (const auto& [name, tensor] : checkpoint().tensors) expected.push_back(name);
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  CATCH_CHECK(names == expected);

  const auto sites = vit->sites();
  CATCH_REQUIRE(sites.size() == 8);
  CATCH_CHECK(sites[0]->site_name() == "blocks.0.attn.qkv");
  CATCH_CHECK(sites[0]->out_features() == 192);
  CATCH_CHECK(sites[1]->site_name() == "blocks.0.attn.proj");
  CATCH_CHECK(sites[2]->site_name() == "blocks.0.mlp.fc1");
  CATCH_CHECK(sites[2]->out_features() == 256);
  CATCH_CHECK(sites[7]->site_name() == "blocks.1.mlp.fc2");
  CATCH_CHECK(sites[7]->in_features() == 256);
  CATCH_CHECK(sites[7]->has_bias());
}

CATCH_TEST_CASE("a checkpoint that does not fit lists every missing, unexpected and mis-shaped key at once") {
  auto vit = make_backbone("vit", fixture_options());
  CATCH_CHECK_THROWS_WITH(vit->load_checkpoint(edited("norm.weight")),
                          "[checkpoint] edited.safetensors does not fit the model: missing keys: norm.weight");
  peft::TensorFile broken = edited("blocks.0.mlp.fc1.weight", at::zeros({128, 64}));
  broken.tensors.emplace_back("blocks.9.attn.qkv.weight", at::zeros({192, 64}));
  broken.tensors.erase(broken.tensors.begin() + 4);  // blocks.0.norm1.weight
  CATCH_CHECK_THROWS_WITH(
      vit->load_checkpoint(broken),
      "[checkpoint] edited.safetensors does not fit the model: missing keys: blocks.0.norm1.weight; unexpected keys: "
      "blocks.9.attn.qkv.weight; shape mismatches: blocks.0.mlp.fc1.weight (file [128, 64], expected [256, 64])");
  // Nothing was copied by the failed loads.
  CATCH_CHECK_FALSE(at::equal(parameter(*vit, "blocks.0.mlp.fc1.bias"), checkpoint().at("blocks.0.mlp.fc1.bias")));
}

CATCH_TEST_CASE("a head of another size is adopted unless the recipe asks for its own, then dropped") {
  auto options = fixture_options();
  options.erase("num_classes");
  auto adopted = make_backbone("vit", options);
  CATCH_CHECK(adopted->classifier()->num_classes() == 1000);
  CATCH_CHECK(adopted->load_checkpoint(checkpoint()).empty());
  CATCH_CHECK(adopted->classifier()->num_classes() == 5);
  CATCH_CHECK(at::equal(parameter(*adopted, "head.weight"), checkpoint().at("head.weight")));

  options["num_classes"] = std::int64_t{10};
  auto fresh = make_backbone("vit", options);
  const auto notices = fresh->load_checkpoint(checkpoint());
  CATCH_REQUIRE(notices.size() == 1);
  CATCH_CHECK(notices[0] == "checkpoint head has 5 classes, the recipe asks for 10: the head starts fresh");
  CATCH_CHECK(fresh->classifier()->num_classes() == 10);
  CATCH_CHECK(at::equal(parameter(*fresh, "norm.weight"), checkpoint().at("norm.weight")));
  torch::NoGradGuard no_grad;
  CATCH_CHECK(fresh->logits(peft::test::image_batch(io().at("input"))).sizes() == at::IntArrayRef({2, 10}));
}

CATCH_TEST_CASE("reset_classifier replaces the head; 0 removes it and logits are the pooled features") {
  auto vit = make_backbone("vit", fixture_options());
  vit->load_checkpoint(checkpoint());
  vit->eval();
  torch::NoGradGuard no_grad;
  vit->classifier()->reset_classifier(3);
  CATCH_CHECK(vit->logits(peft::test::image_batch(io().at("input"))).sizes() == at::IntArrayRef({2, 3}));
  vit->classifier()->reset_classifier(0);
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(io().at("input"))), io().at("pre_logits")) <= 1e-5);
  CATCH_CHECK_FALSE(parameter(*vit, "head.weight").defined());
}

CATCH_TEST_CASE("the taps report the transformer's shape and their hooks reach inside the forward pass") {
  auto vit = make_backbone("vit", fixture_options());
  vit->load_checkpoint(checkpoint());
  vit->eval();
  torch::NoGradGuard no_grad;
  peft::TransformerTaps& taps = peft::require_taps(*vit, "test");
  CATCH_CHECK(taps.num_blocks() == 2);
  CATCH_CHECK(taps.embed_dim() == 64);
  CATCH_CHECK(taps.num_prefix_tokens() == 1);
  CATCH_CHECK(taps.patch_grid() == std::optional<std::array<std::int64_t, 2>>{{8, 8}});

  const at::Tensor input = io().at("input");
  std::vector<std::int64_t> seen;
  taps.hooks().block_input = [](std::int64_t, const at::Tensor& tokens) { return tokens; };
  taps.hooks().value_input = [](std::int64_t) { return at::Tensor(); };
  taps.hooks().block_output = [&](std::int64_t index, const at::Tensor& in, const at::Tensor& out) {
    CATCH_CHECK(in.sizes() == out.sizes());
    seen.push_back(index);
  };
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(input)), io().at("logits")) <=
              1e-5);  // neutral hooks change nothing
  CATCH_CHECK(seen == std::vector<std::int64_t>{0, 1});

  // V(td) includes the value bias, so even td = 0 moves the values (TOAST's definition).
  taps.hooks().value_input = [](std::int64_t index) { return index == 1 ? at::zeros({2, 65, 64}) : at::Tensor(); };
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(input)), io().at("logits")) > 1e-3);
  taps.hooks() = {};
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(input)), io().at("logits")) <= 1e-5);
}

CATCH_TEST_CASE("named variants fix the architecture and explicit fields override them") {
  const auto tiny = make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")}});
  CATCH_CHECK(tiny->sites().size() == 8);
  CATCH_CHECK(tiny->image_input()->preprocessing().image_size == 32);
  const auto deeper =
      make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")}, {"depth", std::int64_t{3}}});
  CATCH_CHECK(deeper->sites().size() == 12);
  CATCH_CHECK(deeper->taps()->num_blocks() == 3);
}

CATCH_TEST_CASE("bad vit options are one-line errors naming the key") {
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", {{"variant", std::string("vit_huge")}}),
                          Catch::StartsWith("[vit] test [backbone]: variant 'vit_huge' is unknown, expected one of: "));
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", {{"img_size", std::int64_t{32}}}),
                          Catch::Contains("patch_size is not set and no variant is given"));
  auto options = fixture_options();
  options["embed_dim"] = std::int64_t{65};
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", options),
                          Catch::Contains("embed_dim = 65 is not a multiple of num_heads 2"));
  options = fixture_options();
  options["img_size"] = std::int64_t{30};
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", options),
                          Catch::Contains("img_size = 30 is not a multiple of patch_size 4"));
  options = fixture_options();
  options["global_pool"] = std::string("max");
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", options),
                          Catch::Contains("global_pool = \"max\", expected one of token, avg"));
  options = fixture_options();
  options["drop_path"] = 1.5;
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", options), Catch::Contains("drop_path = 1.5"));
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", {{"depht", std::int64_t{3}}}),
                          Catch::Contains("unknown key 'depht', expected one of: variant, img_size"));
  CATCH_CHECK_THROWS_WITH(make_backbone("vit", {{"depth", std::string("3")}}),
                          Catch::Contains("key 'depth' must be an integer, got a string"));
}

CATCH_TEST_CASE("drop-path changes training outputs per sample and leaves evaluation alone") {
  auto options = fixture_options();
  options["drop_path"] = 0.5;
  auto vit = make_backbone("vit", options);
  vit->load_checkpoint(checkpoint());
  torch::NoGradGuard no_grad;
  vit->eval();
  CATCH_CHECK(relative_error(vit->logits(peft::test::image_batch(io().at("input"))), io().at("logits")) <= 1e-5);
  vit->train();
  at::manual_seed(0);
  const at::Tensor first = vit->logits(peft::test::image_batch(io().at("input")));
  at::manual_seed(1);
  const at::Tensor second = vit->logits(peft::test::image_batch(io().at("input")));
  CATCH_CHECK_FALSE(at::allclose(first, second));
}

CATCH_TEST_CASE("avg pooling averages the patch tokens and puts the norm after pooling, as timm does") {
  auto options = fixture_options();
  options["global_pool"] = std::string("avg");
  auto vit = make_backbone("vit", options);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : peft::state_dict(*vit)) names.push_back(name);
  CATCH_CHECK(std::count(names.begin(), names.end(), "fc_norm.weight") == 1);
  CATCH_CHECK(std::count(names.begin(), names.end(), "norm.weight") == 0);
  vit->eval();
  torch::NoGradGuard no_grad;
  vit->classifier()->reset_classifier(0);  // the logits are the pooled features
  const peft::Outputs outputs = vit->forward(peft::test::image_batch(io().at("input")));
  const at::Tensor pooled = outputs.at(peft::keys::hidden).slice(1, 1).mean(1);
  const at::Tensor normed =
      at::layer_norm(pooled, {64}, parameter(*vit, "fc_norm.weight"), parameter(*vit, "fc_norm.bias"), 1e-6);
  CATCH_CHECK(relative_error(outputs.at(peft::keys::logits), normed) <= 1e-6);
}
