// The llama backbone's config.json fields and recipe options beyond the reference fixture: RoPE scaling as HF
// computes it, LlamaConfig's attention biases, the options a run may change (max_length, attention kernel, dropout,
// lm_head as a site).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "adapted_model.h"
#include "llama_config.h"
#include "llama_rope.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/method.h"
#include "peft/state_dict.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::relative_error;

namespace {

const fs::path kFixtureConfig = fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny" / "config.json";

// The fixture's config.json with `field`'s value replaced (`"attention_bias": false` → `"attention_bias": true`).
fs::path edited_config(const peft::test::TempFolder& folder, const std::string& from, const std::string& to) {
  std::ifstream in(kFixtureConfig);
  std::string config(std::istreambuf_iterator<char>(in), {});
  const auto at = config.find(from);
  if (at == std::string::npos) throw std::runtime_error("fixture config.json has no " + from);
  config.replace(at, from.size(), to);
  peft::test::write_text(folder / "config.json", config);
  return folder / "config.json";
}

std::shared_ptr<peft::Backbone> llama(const fs::path& config, std::map<std::string, peft::OptionValue> options = {}) {
  options["config"] = config.string();
  return peft::test::make_backbone("llama", options);
}

at::Tensor logits(peft::Backbone& backbone, const at::Tensor& ids) {
  at::NoGradGuard no_grad;
  return backbone.forward(peft::Batch{{peft::keys::input_ids, ids}}).at(peft::keys::logits);
}

at::Tensor parameter(peft::Backbone& backbone, const std::string& name) { return backbone.named_parameters()[name]; }

}  // namespace

CATCH_TEST_CASE("RoPE's frequencies are HF's: linear divides them, llama3 keeps short wavelengths and bands the rest") {
  peft::llama::LlamaConfig config;
  config.head_dim = 16;
  config.rope_theta = 500000.0;
  // transformers' _compute_default/linear_scaling/llama3_parameters (the formulas as in modeling_rope_utils.py, run
  // in python3-torch float32) for head_dim 16, theta 5e5; llama3: factor 8, low 1, high 4, original context 64 —
  // wavelengths 6.3 (kept), 32.4 (smoothed), 167 and up (divided).
  const at::Tensor plain =
      at::tensor({1.0, 0.193922758102417, 0.03760603070259094, 0.00729266507551074, 0.001414213445968926,
                  0.00027424818836152554, 5.3182957344688475e-05, 1.0313385246263351e-05},
                 at::kFloat);
  const at::Tensor linear =
      at::tensor({0.25, 0.04848068952560425, 0.009401507675647736, 0.001823166268877685, 0.0003535533614922315,
                  6.856204709038138e-05, 1.3295739336172119e-05, 2.578346311565838e-06},
                 at::kFloat);
  const at::Tensor llama3 =
      at::tensor({1.0, 0.07940301299095154, 0.004700753837823868, 0.0009115831344388425, 0.00017677668074611574,
                  3.428102354519069e-05, 6.647869668086059e-06, 1.289173155782919e-06},
                 at::kFloat);
  CATCH_CHECK(relative_error(peft::llama::rope_inverse_frequencies(config) / plain, at::ones({8})) < 1e-6);
  config.rope_scaling.type = "linear";
  config.rope_scaling.factor = 4.0;
  CATCH_CHECK(relative_error(peft::llama::rope_inverse_frequencies(config) / linear, at::ones({8})) < 1e-6);
  config.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 64};
  const at::Tensor scaled = peft::llama::rope_inverse_frequencies(config);
  CATCH_CHECK(relative_error(scaled / llama3, at::ones({8})) < 1e-6);
  // The tables the model rotates with are built from them: position p, both halves, angle p · frequency.
  const auto tables = peft::llama::rope_tables(scaled, 0, 3);
  CATCH_CHECK(relative_error(tables.second[2], at::sin(2 * at::cat({scaled, scaled}))) < 1e-6);
  CATCH_CHECK(relative_error(tables.first[2], at::cos(2 * at::cat({scaled, scaled}))) < 1e-6);

  // config.json's rope_scaling is read into those fields.
  peft::test::TempFolder folder;
  const auto read = peft::llama::read_llama_config(
      edited_config(folder, R"("rope_theta": 10000.0,)",
                    R"("rope_theta": 10000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                       "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64},)"));
  CATCH_CHECK(read.rope_scaling.type == "llama3");
  CATCH_CHECK(read.rope_scaling.factor == 8.0);
  CATCH_CHECK(read.rope_scaling.original_max_position_embeddings == 64);
}

CATCH_TEST_CASE("attention_bias puts biases on q/k/v/o as LlamaConfig says; a value bias adds W_o b to each token") {
  peft::test::TempFolder folder;
  const fs::path config = edited_config(folder, R"("attention_bias": false)", R"("attention_bias": true)");
  at::manual_seed(0);
  const auto biased = llama(config);
  for (const peft::Site& site : biased->sites()) {
    const bool attention = site->site_name().find("self_attn") != std::string::npos;
    CATCH_CHECK(site->has_bias() == attention);
  }
  const at::Tensor ids = at::randint(97, {2, 7}, at::kLong);
  const at::Tensor unbiased_logits = logits(*biased, ids);  // biases start at Linear's init, not zero

  // softmax weights sum to 1, so a value bias b comes out of attention as b itself (each query head reading its
  // key/value head's b), and o_proj turns it into W_o b: the same model with v bias 0 and o_proj bias W_o b.
  at::NoGradGuard no_grad;
  const at::Tensor value_bias = at::randn({2 * 16});  // 2 key/value heads of 16
  const auto moved = llama(config);
  peft::load_state_dict(*moved, peft::state_dict(*biased), "biased");
  for (const char* layer : {"0", "1"}) {
    const std::string prefix = std::string("model.layers.") + layer + ".self_attn.";
    parameter(*biased, prefix + "v_proj.bias").copy_(value_bias);
    parameter(*moved, prefix + "v_proj.bias").zero_();
    const at::Tensor per_head = value_bias.view({2, 16}).repeat_interleave(2, 0).reshape({-1});  // 4 query heads
    parameter(*moved, prefix + "o_proj.bias")
        .copy_(parameter(*biased, prefix + "o_proj.bias") + parameter(*biased, prefix + "o_proj.weight").mv(per_head));
  }
  const at::Tensor with_value_bias = logits(*biased, ids);
  CATCH_CHECK(relative_error(with_value_bias, unbiased_logits) > 1e-3);  // the bias is used
  CATCH_CHECK(relative_error(logits(*moved, ids), with_value_bias) < 1e-5);

  // A checkpoint without the biases is refused by a config that declares them, the missing keys named.
  const auto plain = llama(kFixtureConfig);
  CATCH_CHECK_THROWS_WITH(peft::load_state_dict(*biased, peft::state_dict(*plain), "plain"),
                          Catch::Contains("model.layers.0.self_attn.q_proj.bias"));

  // BitFit trains exactly those biases.
  peft::MethodSection bitfit;
  bitfit.plugin = "bitfit";
  bitfit.context = "test [method]";
  const auto model = peft::adapt(peft::test::builtin_registry(), llama(config), bitfit, false);
  std::vector<std::string> trained;
  for (const auto& tensor : model.method->trainable_tensors()) trained.push_back(tensor.name);
  CATCH_CHECK(trained.size() == 8);
  CATCH_CHECK(trained.front() == "model.layers.0.self_attn.q_proj.bias");
}

CATCH_TEST_CASE("a run may shorten the maximum length, choose the attention kernel and dropout, and expose lm_head") {
  at::manual_seed(1);
  const at::Tensor ids = at::randint(97, {1, 9}, at::kLong);
  const auto short_one = llama(kFixtureConfig, {{"max_length", std::int64_t{8}}});
  CATCH_CHECK_THROWS_WITH(logits(*short_one, ids),
                          Catch::Contains("a sequence of 9 tokens is longer than the model's maximum of 8"));
  CATCH_CHECK(short_one->causal_lm()->max_length() == 8);

  // Dropout on attention weights acts while training only.
  const auto dropping = llama(kFixtureConfig, {{"attention_dropout", 0.5}});
  const auto still = llama(kFixtureConfig);
  peft::load_state_dict(*still, peft::state_dict(*dropping), "dropping");
  dropping->train(false);
  still->train(false);
  CATCH_CHECK(logits(*dropping, ids.narrow(1, 0, 8)).equal(logits(*still, ids.narrow(1, 0, 8))));
  dropping->train(true);
  CATCH_CHECK(relative_error(logits(*dropping, ids.narrow(1, 0, 8)), logits(*still, ids.narrow(1, 0, 8))) > 1e-3);
  CATCH_CHECK_THROWS_WITH(llama(kFixtureConfig, {{"attention_dropout", 1.0}}), Catch::Contains("attention_dropout"));

  if (peft::sdpa_available()) {
    const auto fused = llama(kFixtureConfig, {{"attention", std::string("sdpa")}});
    peft::load_state_dict(*fused, peft::state_dict(*still), "still");
    CATCH_CHECK(relative_error(logits(*fused, ids.narrow(1, 0, 8)), logits(*still, ids.narrow(1, 0, 8))) < 1e-5);
  } else {
    CATCH_CHECK_THROWS_WITH(llama(kFixtureConfig, {{"attention", std::string("sdpa")}}),
                            Catch::Contains("attention = 'sdpa' needs LibTorch 2.1 or later"));
  }

  // lm_head is a site on request, so LoRA may target it; a tied head (the embedding) cannot be one.
  const auto count_heads = [](peft::Backbone& backbone) {
    std::size_t heads = 0;
    for (const peft::Site& site : backbone.sites()) heads += site->site_name() == "lm_head" ? 1 : 0;
    return heads;
  };
  CATCH_CHECK(count_heads(*still) == 0);
  const auto exposed = llama(kFixtureConfig, {{"lm_head_site", true}});
  CATCH_CHECK(count_heads(*exposed) == 1);
  peft::MethodSection lora;
  lora.plugin = "lora";
  lora.context = "test [method]";
  lora.targets = {"lm_head"};
  const auto model = peft::adapt(peft::test::builtin_registry(), exposed, lora, false);
  CATCH_CHECK(model.method->trainable_tensors().front().name.rfind("lm_head.", 0) == 0);
  peft::test::TempFolder folder;
  CATCH_CHECK_THROWS_WITH(
      llama(edited_config(folder, R"("tie_word_embeddings": false)", R"("tie_word_embeddings": true)"),
            {{"lm_head_site", true}}),
      Catch::Contains("lm_head_site = true needs an untied head"));
  CATCH_CHECK_THROWS_WITH(peft::test::make_backbone("llama", {}),
                          "[llama] [backbone] needs checkpoint = MODEL_FOLDER (or options.config = its config.json)");
}
