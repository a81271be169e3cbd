// config.json as transformers 4.x and 5.x write it: the RoPE settings in both layouts (checked against
// transformers' own outputs on folders it saved, tests/fixtures/transformers/rope), and every value peft cannot
// honour refused by name.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapted_model.h"
#include "generate.h"
#include "llama_config.h"
#include "peft/backbone.h"
#include "peft/checkpoint_source.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using nlohmann::json;
using peft::test::relative_error;

namespace {

const fs::path kRope = fs::path(PEFT_TRANSFORMERS_FIXTURE_DIR) / "rope";
const fs::path kShipped = fs::path(PEFT_MODELS_DIR) / "llama-mini-fortunes";

const peft::TensorFile& hf_outputs() {
  static const peft::TensorFile file = peft::read_safetensors(kRope / "outputs.safetensors");
  return file;
}

// The shipped model's weights under the config.json that transformers saved for `rope_case`.
fs::path saved_folder(const peft::test::TempFolder& folder, const std::string& rope_case) {
  const fs::path model = folder / rope_case;
  fs::create_directories(model);
  fs::copy_file(kRope / rope_case / "config.json", model / "config.json");
  fs::create_symlink(fs::absolute(kShipped / "model.safetensors"), model / "model.safetensors");
  return model;
}

std::vector<std::int64_t> ids_of(const at::Tensor& tensor) {
  const at::Tensor flat = tensor.reshape({-1}).to(at::kLong).contiguous();
  return {flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel()};
}

json shipped_config() {
  std::ifstream in(kShipped / "config.json");
  return json::parse(in);
}

// The error reading `config` gives (config.json in `folder`), or "(no error)".
std::string config_error(const peft::test::TempFolder& folder, const json& config) {
  peft::test::write_text(folder / "config.json", config.dump(2));
  try {
    peft::llama::read_llama_config(folder / "config.json");
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a folder transformers 5 saved (rope_parameters, dtype) gives transformers' logits, loss and tokens") {
  peft::test::TempFolder folder;
  const at::Tensor input_ids = hf_outputs().at("input_ids");
  const std::vector<std::int64_t> prompt = ids_of(input_ids.narrow(1, 0, 40));
  for (const std::string rope_case : {"theta_500k", "llama3", "linear"}) {
    CATCH_INFO(rope_case);
    const fs::path model_folder = saved_folder(folder, rope_case);
    const auto llama = peft::test::make_backbone("llama", {{"config", (model_folder / "config.json").string()}});
    llama->load_checkpoint(peft::CheckpointSource::open(model_folder));
    llama->eval();
    peft::AdaptedModel model = peft::unadapted(llama);
    at::NoGradGuard no_grad;
    const at::Tensor logits = llama->forward(peft::Batch{{peft::keys::input_ids, input_ids}}).at(peft::keys::logits);
    CATCH_CHECK(relative_error(logits[0].narrow(0, 88, 8), hf_outputs().at(rope_case + ".logits")) < 1e-5);
    const at::Tensor loss = at::cross_entropy_loss(logits[0].narrow(0, 0, 95), input_ids[0].narrow(0, 1, 95));
    CATCH_CHECK(loss.item<double>() ==
                Catch::Detail::Approx(hf_outputs().at(rope_case + ".loss").item<double>()).epsilon(1e-6));
    peft::GenerateOptions greedy;
    greedy.max_new_tokens = 8;
    CATCH_CHECK(peft::generate_ids(model, prompt, std::nullopt, greedy).new_ids ==
                ids_of(hf_outputs().at(rope_case + ".greedy")));
  }
  // The settings peft read are the saved ones, not the defaults (what a reader ignoring rope_parameters got).
  const auto llama3 = peft::llama::read_llama_config(kRope / "llama3" / "config.json");
  CATCH_CHECK(llama3.rope_theta == 500000.0);
  CATCH_CHECK(llama3.rope_scaling.type == "llama3");
  CATCH_CHECK(llama3.rope_scaling.original_max_position_embeddings == 64);
  CATCH_CHECK(peft::llama::read_llama_config(kRope / "linear" / "config.json").rope_scaling.factor == 2.0);
}

CATCH_TEST_CASE("the 4.x layout (rope_theta, rope_scaling with type or rope_type, torch_dtype) reads the same") {
  peft::test::TempFolder folder;
  json config = shipped_config();
  config["rope_theta"] = 500000.0;
  config["rope_scaling"] = {{"type", "llama3"},
                            {"factor", 8.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 64}};
  config["torch_dtype"] = "bfloat16";
  CATCH_REQUIRE(config_error(folder, config) == "(no error)");
  const auto legacy = peft::llama::read_llama_config(folder / "config.json");
  const auto saved = peft::llama::read_llama_config(kRope / "llama3" / "config.json");
  CATCH_CHECK(legacy.rope_theta == saved.rope_theta);
  CATCH_CHECK(legacy.rope_scaling.type == saved.rope_scaling.type);
  CATCH_CHECK(legacy.rope_scaling.factor == saved.rope_scaling.factor);
  CATCH_CHECK(legacy.dtype == "bfloat16");
  CATCH_CHECK(saved.dtype == "float32");
  // Llama 3 lists several end-of-sequence ids.
  config["eos_token_id"] = {2, 3};
  CATCH_REQUIRE(config_error(folder, config) == "(no error)");
  CATCH_CHECK(peft::llama::read_llama_config(folder / "config.json").eos_token_ids == std::vector<std::int64_t>{2, 3});
}

CATCH_TEST_CASE("a RoPE key or value peft does not apply is refused by name, never replaced by a default") {
  peft::test::TempFolder folder;
  const std::string file = (folder / "config.json").string();
  json saved;
  {
    std::ifstream in(kRope / "llama3" / "config.json");
    saved = json::parse(in);
  }
  const auto with_rope = [&](const json& rope) {
    json config = saved;
    config["rope_parameters"] = rope;
    return config_error(folder, config);
  };
  CATCH_CHECK(with_rope({{"rope_type", "yarn"}, {"rope_theta", 1e4}, {"factor", 4.0}}) ==
              "[llama] " + file +
                  ": rope_parameters.rope_type = 'yarn' is not supported (supported: default, "
                  "linear, llama3)");
  CATCH_CHECK(with_rope({{"rope_type", "dynamic"}, {"rope_theta", 1e4}, {"factor", 2.0}}) ==
              "[llama] " + file +
                  ": rope_parameters.rope_type = 'dynamic' is not supported (supported: default, "
                  "linear, llama3)");
  CATCH_CHECK(with_rope({{"rope_type", "linear"}, {"rope_theta", 1e4}, {"factor", 2.0}, {"mscale", 1.5}}) ==
              "[llama] " + file +
                  ": rope_parameters.mscale = 1.5 is not understood for rope_type 'linear' (peft "
                  "applies: rope_theta, factor)");
  CATCH_CHECK(with_rope({{"rope_type", "default"}, {"rope_theta", 1e4}, {"partial_rotary_factor", 0.5}}) ==
              "[llama] " + file +
                  ": rope_parameters.partial_rotary_factor = 0.5 is not understood for rope_type "
                  "'default' (peft applies: rope_theta)");
  CATCH_CHECK(with_rope({{"rope_type", "default"}, {"rope_theta", nullptr}}) ==
              "[llama] " + file + ": rope_parameters.rope_theta is null, expected a positive number");
  CATCH_CHECK(with_rope({{"rope_type", "default"}}) ==
              "[llama] " + file + ": rope_parameters.rope_theta is missing, expected a positive number");
  CATCH_CHECK(with_rope({{"rope_type", "linear"}, {"rope_theta", 1e4}}) ==
              "[llama] " + file + ": rope_parameters.factor is missing, expected a positive number");
  CATCH_CHECK(with_rope({{"rope_type", "linear"}, {"type", "llama3"}, {"rope_theta", 1e4}, {"factor", 2.0}}) ==
              "[llama] " + file + ": rope_parameters.type = 'llama3' contradicts rope_type = 'linear'");
  CATCH_CHECK(with_rope({{"full_attention", {{"rope_type", "default"}, {"rope_theta", 1e6}}},
                         {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 1e4}}}}) ==
              "[llama] " + file +
                  ": rope_parameters.full_attention holds RoPE parameters per attention type, which "
                  "the llama backbone does not have");
  CATCH_CHECK(with_rope(json::array()) == "[llama] " + file + ": rope_parameters = [], expected an object");
  // Both layouts at once: which one transformers would apply depends on its version.
  json both = saved;
  both["rope_theta"] = 10000.0;
  CATCH_CHECK(config_error(folder, both) ==
              "[llama] " + file +
                  ": rope_theta is given beside rope_parameters: give RoPE settings in one of the "
                  "two layouts");
  // The 4.x layout is held to the same rules.
  json legacy = shipped_config();
  legacy["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"original_max_position_embeddings", 64}};
  CATCH_CHECK(config_error(folder, legacy) ==
              "[llama] " + file +
                  ": rope_scaling.original_max_position_embeddings = 64 is not understood for "
                  "rope_type 'linear' (peft applies: rope_theta, factor)");
}

CATCH_TEST_CASE("config.json values that would change what the user gets are errors: ids, dtype, model_type") {
  peft::test::TempFolder folder;
  const std::string file = (folder / "config.json").string();
  const auto with = [&](const std::string& key, const json& value) {
    json config = shipped_config();
    config[key] = value;
    return config_error(folder, config);
  };
  CATCH_CHECK(with("bos_token_id", 99999) ==
              "[llama] " + file + ": bos_token_id = 99999, expected token ids in [0, 2048) (vocab_size)");
  CATCH_CHECK(with("eos_token_id", -5) ==
              "[llama] " + file + ": eos_token_id = -5, expected token ids in [0, 2048) (vocab_size)");
  CATCH_CHECK(with("eos_token_id", json::array({2, 4096})) ==
              "[llama] " + file + ": eos_token_id = [2,4096], expected token ids in [0, 2048) (vocab_size)");
  CATCH_CHECK(with("torch_dtype", "float8") ==
              "[llama] " + file +
                  ": torch_dtype = 'float8' is not a dtype peft reads (expected float32, bfloat16, "
                  "float16 or float64)");
  CATCH_CHECK(with("dtype", "bfloat16") ==
              "[llama] " + file + ": torch_dtype = 'float32' contradicts dtype = 'bfloat16'");
  CATCH_CHECK(with("model_type", "gpt2") ==
              "[llama] " + file +
                  ": model_type = 'gpt2' contradicts architectures = [\"LlamaForCausalLM\"] "
                  "(expected 'llama')");
  CATCH_CHECK(with("bos_token_id", nullptr) == "(no error)");
  // Sizes no machine holds are refused before anything is allocated, naming them.
  CATCH_CHECK_THAT(with("hidden_size", 1000000000000),
                   Catch::StartsWith("[llama] " + file +
                                     ": hidden_size = 1000000000000, intermediate_size = 512, "
                                     "vocab_size = 2048 and num_hidden_layers = 4 make 1.23e+16 parameters, "
                                     "4.92e+16 bytes in float32, more than this machine's ") &&
                       Catch::EndsWith(" bytes of memory and swap"));
}

CATCH_TEST_CASE("a config.json that is a folder is a one-line error naming it") {
  peft::test::TempFolder folder;
  fs::create_directories(folder / "config.json");
  CATCH_CHECK_THROWS_WITH(
      peft::llama::read_llama_config(folder / "config.json"),
      "[llama] " + (folder / "config.json").string() + " is not a file (a model folder needs config.json)");
}
