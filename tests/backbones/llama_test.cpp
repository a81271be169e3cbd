// The llama backbone against Hugging Face's outputs for the same checkpoint (tests/fixtures/reference/llama_tiny):
// the sharded BF16/F16 folder loads, and hidden states, logits, a HF-peft LoRA's logits and the causal-LM loss
// match transformers' in float32.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapted_model.h"
#include "generate.h"
#include "peft/backbone.h"
#include "peft/checkpoint_source.h"
#include "peft/error.h"
#include "peft/method.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::relative_error;

namespace {

const fs::path kFolder = fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny";

const peft::TensorFile& io() {
  static const peft::TensorFile file =
      peft::read_safetensors(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny_io.safetensors");
  return file;
}

std::shared_ptr<peft::Backbone> tiny_llama(const fs::path& config = kFolder / "config.json") {
  return peft::test::make_backbone("llama", {{"config", config.string()}});
}

peft::Batch ids_batch() { return peft::Batch{{peft::keys::input_ids, io().at("input_ids")}}; }

std::string config_error(const peft::test::TempFolder& folder, const std::string& json) {
  peft::test::write_text(folder / "config.json", json);
  try {
    tiny_llama(folder / "config.json");
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("llama reproduces Hugging Face's hidden states, logits and causal-LM loss from a sharded folder") {
  auto llama = tiny_llama();
  CATCH_CHECK(llama->load_checkpoint(peft::CheckpointSource::open(kFolder)).empty());
  llama->eval();
  at::NoGradGuard no_grad;
  const peft::Outputs out = llama->forward(ids_batch());
  CATCH_CHECK(relative_error(out.at(peft::keys::hidden), io().at("hidden")) < 1e-5);
  const at::Tensor& logits = out.at(peft::keys::logits);
  CATCH_CHECK(relative_error(logits, io().at("logits")) < 1e-5);

  // HF's loss: logits[:, :-1] against labels[:, 1:], -100 ignored, mean over the rest.
  const at::Tensor& labels = io().at("labels");
  const std::int64_t vocabulary = logits.size(-1);
  const at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, 11).reshape({-1, vocabulary}),
                                                 labels.narrow(1, 1, 11).reshape({-1}), {}, at::Reduction::Mean, -100);
  CATCH_CHECK(std::abs(loss.item<double>() - io().at("loss").item<double>()) < 1e-5 * io().at("loss").item<double>());

  // Right padding does not change the real positions' outputs.
  const at::Tensor padded = at::cat({io().at("input_ids"), at::zeros({2, 3}, at::kLong)}, 1);
  const at::Tensor mask = at::cat({at::ones({2, 12}, at::kLong), at::zeros({2, 3}, at::kLong)}, 1);
  const at::Tensor padded_logits =
      llama->forward({{peft::keys::input_ids, padded}, {peft::keys::attention_mask, mask}}).at(peft::keys::logits);
  CATCH_CHECK(relative_error(padded_logits.narrow(1, 0, 12), io().at("logits")) < 1e-5);
}

CATCH_TEST_CASE("llama's sites carry Hugging Face's module names, and a HF-peft LoRA on q_proj/v_proj reproduces") {
  auto llama = tiny_llama();
  llama->load_checkpoint(peft::CheckpointSource::open(kFolder));
  std::vector<std::string> names;
  for (const auto& site : llama->sites()) names.push_back(site->site_name());
  CATCH_REQUIRE(names.size() == 14);
  CATCH_CHECK(names[0] == "model.layers.0.self_attn.q_proj");
  CATCH_CHECK(names[6] == "model.layers.0.mlp.down_proj");
  CATCH_CHECK(llama->sites()[1]->out_features() == 32);  // k_proj: 2 key/value heads of 16

  peft::MethodSection lora;
  lora.plugin = "lora";
  lora.context = "test [method]";
  lora.targets = {"q_proj", "v_proj"};
  lora.options = {{"r", std::int64_t{4}}, {"lora_alpha", 8.0}};
  peft::AdaptedModel model = peft::adapt(peft::test::builtin_registry(), llama, lora, false);
  CATCH_CHECK(model.site_names.size() == 4);
  CATCH_CHECK(model.head_count() == 0);
  // The adapter as HF peft saves it: base_model.model.<module>.lora_{A,B}.weight.
  peft::NamedTensors state;
  const std::string prefix = "base_model.model.";
  for (const auto& [name, tensor] : io().tensors) {
    if (name.rfind(prefix, 0) == 0) state.emplace_back(name.substr(prefix.size()), tensor);
  }
  CATCH_REQUIRE(state.size() == 8);
  model.method->load_adapter_state(state, "llama_tiny_io.safetensors");
  model.train(false);
  at::NoGradGuard no_grad;
  CATCH_CHECK(relative_error(model.logits(ids_batch()), io().at("logits_lora")) < 1e-5);
  CATCH_CHECK(relative_error(io().at("logits"), io().at("logits_lora")) > 1e-2);  // the adapter matters
}

CATCH_TEST_CASE("a config.json llama cannot build is one line naming the file and the field") {
  peft::test::TempFolder folder;
  const std::string file = (folder / "config.json").string();
  const std::string sizes =
      R"("hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, )";
  CATCH_CHECK(config_error(folder, R"({"architectures": ["GPT2LMHeadModel"]})") ==
              "[llama] " + file +
                  ": architectures = [\"GPT2LMHeadModel\"], expected LlamaForCausalLM (or MistralForCausalLM: LLaMA "
                  "with a window)");
  CATCH_CHECK(config_error(folder, R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 97})") ==
              "[llama] " + file + ": hidden_size is missing, expected a positive integer");
  CATCH_CHECK(config_error(folder, R"({"architectures": ["LlamaForCausalLM"], )" + sizes +
                                       R"("num_key_value_heads": 3, "vocab_size": 97})") ==
              "[llama] " + file + ": num_key_value_heads = 3 does not divide num_attention_heads = 4");
  CATCH_CHECK(config_error(folder, R"({"architectures": ["MistralForCausalLM"], )" + sizes +
                                       R"("vocab_size": 97, "sliding_window": 4096})") ==
              "[llama] " + file +
                  ": sliding_window = 4096: sliding-window attention is not supported (full causal attention only)");
  CATCH_CHECK(config_error(folder, R"({"architectures": ["LlamaForCausalLM"], )" + sizes +
                                       R"("vocab_size": 97, "rope_scaling": {"rope_type": "yarn", "factor": 4}})") ==
              "[llama] " + file +
                  ": rope_scaling.rope_type = 'yarn' is not supported (supported: default, linear, llama3)");
  CATCH_CHECK_THAT(config_error(folder, "{not json"), Catch::EndsWith("config.json is not a JSON object"));
}

CATCH_TEST_CASE("a checkpoint whose tensors disagree with config.json is refused, every tensor named") {
  peft::test::TempFolder folder;
  std::ifstream in(kFolder / "config.json");
  std::string config(std::istreambuf_iterator<char>(in), {});
  config.replace(config.find("\"intermediate_size\": 160"), std::string("\"intermediate_size\": 160").size(),
                 "\"intermediate_size\": 128");
  peft::test::write_text(folder / "config.json", config);
  auto llama = tiny_llama(folder / "config.json");
  CATCH_CHECK_THROWS_WITH(
      llama->load_checkpoint(peft::CheckpointSource::open(kFolder)),
      Catch::StartsWith("[checkpoint] " + kFolder.string() + " does not fit the model: shape mismatches: ") &&
          Catch::Contains("model.layers.0.mlp.gate_proj.weight (file [160, 64], expected [128, 64])") &&
          Catch::Contains("model.layers.1.mlp.up_proj.weight (file [160, 64], expected [128, 64])"));
}

namespace {

// A model folder with the tiny config (vocabulary `vocab`) and the SentencePiece fixture as its tokenizer.
fs::path tokenizer_folder(const peft::test::TempFolder& folder, int vocab) {
  std::ifstream in(kFolder / "config.json");
  std::string config(std::istreambuf_iterator<char>(in), {});
  config.replace(config.find("\"vocab_size\": 97"), std::string("\"vocab_size\": 97").size(),
                 "\"vocab_size\": " + std::to_string(vocab));
  peft::test::write_text(folder / "config.json", config);
  fs::copy_file(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "sentencepiece" / "tokenizer.model", folder / "tokenizer.model");
  return folder / "config.json";
}

}  // namespace

CATCH_TEST_CASE("llama's SentencePiece tokenizer gives the ids and text python3-sentencepiece gives", "[tokenizer]") {
  peft::test::TempFolder folder;
  auto llama = tiny_llama(tokenizer_folder(folder, 512));
  const peft::Tokenizer* tokenizer = llama->tokenizer();
  CATCH_REQUIRE(tokenizer != nullptr);
  CATCH_CHECK(tokenizer->vocab_size() == 512);
  CATCH_CHECK(tokenizer->bos_id() == 1);
  CATCH_CHECK(tokenizer->eos_id() == 2);
  CATCH_CHECK_FALSE(tokenizer->pad_id().has_value());
  std::ifstream in(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "sentencepiece" / "tokenizer_cases.json");
  const auto cases = nlohmann::json::parse(in)["cases"];
  CATCH_REQUIRE(cases.size() == 5);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    CATCH_INFO(text);
    const auto ids = tokenizer->encode(text);
    CATCH_CHECK(ids == c["ids"].get<std::vector<std::int64_t>>());
    CATCH_CHECK(tokenizer->decode(ids) == c["decoded"].get<std::string>());
    // As the model reads a sequence: BOS first (add_bos_token's default), no EOS.
    const auto sequence = tokenizer->encode_sequence(text);
    CATCH_CHECK(sequence.size() == ids.size() + 1);
    CATCH_CHECK(sequence.front() == 1);
  }
  // tokenizer_config.json decides BOS and EOS.
  peft::test::TempFolder other;
  const fs::path config = tokenizer_folder(other, 512);
  peft::test::write_text(other / "tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  const auto sequence = tiny_llama(config)->tokenizer()->encode_sequence("Hello, world!");
  CATCH_CHECK(sequence.front() == 373);
  CATCH_CHECK(sequence.back() == 2);

  // Special tokens as transformers reads them: tokenizer_config.json first, then special_tokens_map.json (a string
  // or {"content": ...}); null means none.
  peft::test::TempFolder special;
  const fs::path special_config = tokenizer_folder(special, 512);
  peft::test::write_text(
      special / "special_tokens_map.json",
      R"({"eos_token": {"content": "<unk>", "lstrip": false}, "pad_token": "</s>", "bos_token": "<s>"})");
  peft::test::write_text(special / "tokenizer_config.json", R"({"bos_token": null, "pad_token": "<unk>"})");
  const auto special_llama = tiny_llama(special_config);
  const peft::Tokenizer* mapped = special_llama->tokenizer();
  CATCH_CHECK(mapped->eos_id() == 0);
  CATCH_CHECK(mapped->pad_id() == 0);
  CATCH_CHECK_FALSE(mapped->bos_id().has_value());
  CATCH_CHECK(mapped->encode_sequence("Hello, world!").front() == 373);  // add_bos_token, but no BOS token
  peft::test::write_text(special / "tokenizer_config.json", R"({"eos_token": "<|im_end|>"})");
  CATCH_CHECK_THROWS_WITH(tiny_llama(special_config)->tokenizer(),
                          "[llama] " + (special / "tokenizer_config.json").string() +
                              ": eos_token '<|im_end|>' is not a piece of tokenizer.model (tokens added on top of it "
                              "need tokenizer.json, not supported yet)");
}

CATCH_TEST_CASE("a tokenizer llama cannot use is one line naming the file", "[tokenizer]") {
  peft::test::TempFolder folder;
  auto small = tiny_llama(tokenizer_folder(folder, 97));
  CATCH_CHECK_THROWS_WITH(small->tokenizer(), "[llama] " + (folder / "tokenizer.model").string() +
                                                  " has 512 tokens, more than the model's vocab_size = 97");
  fs::remove(folder / "tokenizer.model");
  peft::test::write_text(folder / "tokenizer.json", "{}");
  CATCH_CHECK_THROWS_WITH(tiny_llama(folder / "config.json")->tokenizer(),
                          "[llama] " + (folder / "tokenizer.json").string() +
                              ": a tokenizer.json without tokenizer.model (a fast BPE tokenizer, as Llama-3's) is not "
                              "supported yet; SentencePiece tokenizer.model files are");
  CATCH_CHECK(tiny_llama()->tokenizer() == nullptr);  // the fixture folder has no tokenizer
  // Tokenizer files that are folders (they open, then read as nothing).
  fs::remove(folder / "tokenizer.json");
  fs::create_directories(folder / "tokenizer.model");
  CATCH_CHECK_THROWS_WITH(tiny_llama(folder / "config.json")->tokenizer(),
                          "[llama] " + (folder / "tokenizer.model").string() +
                              " is not a file (a model folder holds tokenizer files, not folders of them)");
  fs::remove(folder / "tokenizer.model");
  tokenizer_folder(folder, 512);
  fs::create_directories(folder / "tokenizer_config.json");
  CATCH_CHECK_THROWS_WITH(tiny_llama(folder / "config.json")->tokenizer(),
                          "[llama] " + (folder / "tokenizer_config.json").string() +
                              " is not a file (a model folder holds tokenizer files, not folders of them)");
}

CATCH_TEST_CASE("generation with the key/value cache equals re-running the whole sequence, with or without LoRA") {
  auto llama = tiny_llama();
  llama->load_checkpoint(peft::CheckpointSource::open(kFolder));
  peft::MethodSection lora;
  lora.plugin = "lora";
  lora.context = "test [method]";
  lora.targets = {"q_proj", "v_proj"};
  lora.options = {{"r", std::int64_t{4}}, {"lora_alpha", 8.0}};
  for (const bool adapted : {false, true}) {
    CATCH_INFO("with LoRA: " << adapted);
    peft::AdaptedModel model;
    if (adapted) {
      model = peft::adapt(peft::test::builtin_registry(), tiny_llama(), lora, false);
      model.backbone->load_checkpoint(peft::CheckpointSource::open(kFolder));
      peft::NamedTensors state;
      for (const auto& [name, tensor] : io().tensors) {
        if (name.rfind("base_model.model.", 0) == 0) state.emplace_back(name.substr(17), tensor);
      }
      model.method->load_adapter_state(state, "llama_tiny_io.safetensors");
    } else {
      model.backbone = llama;
      model.method = peft::test::builtin_registry().methods().at("full").create(peft::Options());
    }
    const at::Tensor first = io().at("input_ids")[0].narrow(0, 0, 5);
    const std::vector<std::int64_t> prompt(first.data_ptr<std::int64_t>(), first.data_ptr<std::int64_t>() + 5);
    peft::GenerateOptions options;
    options.max_new_tokens = 10;
    options.keep_logits = true;
    const peft::Generation cached = peft::generate_ids(model, prompt, std::nullopt, options);
    options.use_cache = false;
    const peft::Generation full = peft::generate_ids(model, prompt, std::nullopt, options);
    CATCH_CHECK(cached.new_ids.size() == 10);
    CATCH_CHECK(cached.new_ids == full.new_ids);
    CATCH_REQUIRE(cached.logits.size() == full.logits.size());
    for (std::size_t i = 0; i < cached.logits.size(); ++i) {
      CATCH_CHECK(relative_error(cached.logits[i], full.logits[i]) < 1e-5);
    }
    // The first step's logits are the full forward's at the prompt's last position.
    at::NoGradGuard no_grad;
    const at::Tensor reference = model.logits(peft::Batch{{peft::keys::input_ids, first.view({1, 5})}})[0][4];
    CATCH_CHECK(relative_error(cached.logits[0], reference) < 1e-5);
    // Sampling is seeded: the same seed, the same tokens.
    options.use_cache = true;
    options.temperature = 0.8;
    options.top_p = 0.9;
    options.seed = 7;
    CATCH_CHECK(peft::generate_ids(model, prompt, std::nullopt, options).new_ids ==
                peft::generate_ids(model, prompt, std::nullopt, options).new_ids);
  }
  peft::AdaptedModel plain;
  plain.backbone = llama;
  plain.method = peft::test::builtin_registry().methods().at("full").create(peft::Options());
  CATCH_CHECK_THROWS_WITH(peft::generate_ids(plain, std::vector<std::int64_t>(64, 3), std::nullopt, {}),
                          "[generate] the prompt has 64 tokens, leaving no room before the model's maximum of 64");
}
