// Adapter folders that Hugging Face peft saved (tests/fixtures/hf_peft/adapters, made by make_adapters.py with the
// installed peft): read as lora / dora / ia3 they give transformers + peft's logits, loss and greedy tokens on the
// shipped tiny LLaMA, and what peft cannot compute is refused by name.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapted_model.h"
#include "generate.h"
#include "hf_adapter/hf_adapter.h"
#include "hf_adapter/hf_targets.h"
#include "peft/backbone.h"
#include "peft/checkpoint_source.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "support/builtin_plugins.h"
#include "support/run_command.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using nlohmann::json;
using peft::test::relative_error;
using peft::test::TempFolder;

namespace {

const fs::path kAdapters = fs::path(PEFT_HF_PEFT_FIXTURE_DIR) / "adapters";
const fs::path kShipped = fs::path(PEFT_MODELS_DIR) / "llama-mini-fortunes";

const peft::TensorFile& hf_outputs() {
  static const peft::TensorFile file = peft::read_safetensors(kAdapters / "outputs.safetensors");
  return file;
}

std::vector<std::int64_t> ids_of(const at::Tensor& tensor) {
  const at::Tensor flat = tensor.reshape({-1}).to(at::kLong).contiguous();
  return {flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel()};
}

std::shared_ptr<peft::Backbone> shipped_llama() {
  const auto llama = peft::test::make_backbone("llama", {{"config", (kShipped / "config.json").string()}});
  llama->load_checkpoint(peft::CheckpointSource::open(kShipped));
  llama->eval();
  return llama;
}

// A copy of the fixture `name` in `folder`, its config edited by `edit`.
fs::path edited_copy(const TempFolder& folder, const std::string& name, const std::function<void(json&)>& edit) {
  const fs::path copy = folder / (name + "-edited");
  fs::remove_all(copy);
  fs::create_directories(copy);
  fs::copy_file(kAdapters / name / "adapter_model.safetensors", copy / "adapter_model.safetensors");
  std::ifstream in(kAdapters / name / "adapter_config.json");
  json config = json::parse(in);
  edit(config);
  peft::test::write_text(copy / "adapter_config.json", config.dump(2));
  return copy;
}

// A copy of the fixture `name` whose tensor file is `edit`ed.
fs::path tensors_edited(const TempFolder& folder, const std::string& name,
                        const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
  const fs::path copy = edited_copy(folder, name, [](json&) {});
  const peft::TensorFile file = peft::read_safetensors(kAdapters / name / "adapter_model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> tensors(file.tensors.begin(), file.tensors.end());
  edit(tensors);
  peft::write_safetensors(copy / "adapter_model.safetensors", tensors);
  return copy;
}

// The error reading `folder` and applying it to the shipped model gives, or "(no error)".
std::string apply_error(const fs::path& folder) {
  try {
    peft::adapt_to_hf_adapter(peft::test::builtin_registry(), shipped_llama(), peft::read_hf_adapter(folder));
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("adapters Hugging Face peft saved give transformers + peft's logits, loss and greedy tokens") {
  const at::Tensor input_ids = hf_outputs().at("input_ids");
  const std::vector<std::int64_t> prompt = ids_of(input_ids.narrow(1, 0, 24));
  const std::map<std::string, std::string> methods{
      {"lora", "lora"}, {"rslora_patterns", "lora"}, {"layers", "lora"}, {"dora", "dora"}, {"ia3", "ia3"}};
  for (const auto& [name, method] : methods) {
    CATCH_INFO(name);
    const peft::HfAdapter adapter = peft::read_hf_adapter(kAdapters / name);
    CATCH_CHECK(adapter.method.plugin == method);
    CATCH_CHECK(adapter.base_model == "models/llama-mini-fortunes");
    peft::AdaptedModel model = peft::adapt_to_hf_adapter(peft::test::builtin_registry(), shipped_llama(), adapter);
    model.train(false);
    at::NoGradGuard no_grad;
    const at::Tensor logits = model.logits(peft::Batch{{peft::keys::input_ids, input_ids}});
    CATCH_CHECK(relative_error(logits[0].narrow(0, 56, 8), hf_outputs().at(name + ".logits")) < 1e-5);
    const at::Tensor loss = at::cross_entropy_loss(logits[0].narrow(0, 0, 63), input_ids[0].narrow(0, 1, 63));
    CATCH_CHECK(loss.item<double>() ==
                Catch::Detail::Approx(hf_outputs().at(name + ".loss").item<double>()).epsilon(1e-6));
    peft::GenerateOptions greedy;
    greedy.max_new_tokens = 8;
    CATCH_CHECK(peft::generate_ids(model, prompt, std::nullopt, greedy).new_ids ==
                ids_of(hf_outputs().at(name + ".greedy")));
  }
}

CATCH_TEST_CASE("a Hugging Face peft LoRA config becomes lora's options and targets as peft's rules resolve them") {
  const peft::HfAdapter patterns = peft::read_hf_adapter(kAdapters / "rslora_patterns");
  CATCH_CHECK(std::get<std::int64_t>(patterns.method.options.at("r")) == 4);
  CATCH_CHECK(std::get<bool>(patterns.method.options.at("use_rslora")));
  // The regex target_modules ".*\.(q_proj|o_proj|down_proj)" over 4 layers; each pattern per module, full names.
  CATCH_CHECK(patterns.method.targets.size() == 12);
  const auto ranks = std::get<std::vector<std::string>>(patterns.method.options.at("rank_pattern"));
  CATCH_CHECK(std::count(ranks.begin(), ranks.end(), "model.layers.0.self_attn.q_proj=8") == 1);
  CATCH_CHECK(std::count(ranks.begin(), ranks.end(), "model.layers.3.self_attn.o_proj=2") == 1);
  CATCH_CHECK(ranks.size() == 5);  // q_proj of layer 0 and o_proj of 4 layers
  const auto alphas = std::get<std::vector<std::string>>(patterns.method.options.at("alpha_pattern"));
  CATCH_CHECK(alphas.size() == 4);
  CATCH_CHECK(std::count(alphas.begin(), alphas.end(), "model.layers.2.mlp.down_proj=4.0") == 1);
  // layers_to_transform [1, 3] with model.layers.3.mlp.gate_proj excluded.
  const peft::HfAdapter layers = peft::read_hf_adapter(kAdapters / "layers");
  CATCH_CHECK(layers.method.targets ==
              std::vector<std::string>{"model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj",
                                       "model.layers.1.self_attn.k_proj", "model.layers.3.mlp.up_proj",
                                       "model.layers.3.self_attn.k_proj"});
  CATCH_CHECK(!layers.targets("model.layers.3.mlp.gate_proj"));
  CATCH_CHECK(!layers.targets("model.layers.0.self_attn.k_proj"));
  const peft::HfAdapter ia3 = peft::read_hf_adapter(kAdapters / "ia3");
  CATCH_CHECK(std::get<std::vector<std::string>>(ia3.method.options.at("feedforward_modules")).size() == 4);
}

CATCH_TEST_CASE("peft's pattern keys match as get_pattern_key does: a regex over the trailing segments") {
  CATCH_CHECK(peft::hf_pattern_key({"o_proj"}, "model.layers.0.self_attn.o_proj", "x") == std::string("o_proj"));
  CATCH_CHECK(!peft::hf_pattern_key({"proj"}, "model.layers.0.self_attn.o_proj", "x"));
  CATCH_CHECK(peft::hf_pattern_key({"v_proj", "layers\\.[01]\\..*"}, "model.layers.1.mlp.up_proj", "x") ==
              std::string("layers\\.[01]\\..*"));
  CATCH_CHECK_THROWS_WITH(peft::hf_pattern_key({"(?P<name>q)"}, "q", "cfg: rank_pattern"),
                          Catch::Contains("cfg: rank_pattern key \"(?P<name>q)\": not a regular expression"));
}

CATCH_TEST_CASE("what peft cannot apply from a Hugging Face peft adapter is refused, naming the file and key") {
  TempFolder folder;
  const auto with = [&](const std::string& name, const std::function<void(json&)>& edit) {
    return apply_error(edited_copy(folder, name, edit));
  };
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["peft_type"] = "LOHA"; }),
                   Catch::Contains("adapter_config.json: peft_type = \"LOHA\": peft reads LORA"));
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["bias"] = "all"; }),
                   Catch::Contains("adapter_config.json: bias = \"all\", expected \"none\""));
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["fan_in_fan_out"] = true; }),
                   Catch::Contains("fan_in_fan_out = true, expected false"));
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["init_lora_weights"] = "pissa"; }),
                   Catch::Contains("init_lora_weights = \"pissa\": that initialisation rewrites the base model's"));
  // A key this peft does not read, set to something: refused rather than ignored.
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["use_fancy_new_thing"] = true; }),
                   Catch::Contains("use_fancy_new_thing = true: peft cannot apply it"));
  CATCH_CHECK_THAT(with("lora",
                        [](json& c) {
                          c["layer_replication"] = json::array({json::array({0, 2})});
                        }),
                   Catch::Contains("layer_replication = [[0,2]]: peft cannot apply it"));
  CATCH_CHECK(with("lora", [](json& c) { c["use_fancy_new_thing"] = nullptr; }) == "(no error)");
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["r"] = 0; }), Catch::Contains("adapter_config.json: r = 0, expected"));
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["target_modules"] = json::array({"q_proj"}); }),
                   Catch::Contains("has tensors for model.layers.0.self_attn.v_proj, which the config's "
                                   "target_modules (with exclude_modules, layers_to_transform) does not select"));
  CATCH_CHECK_THAT(with("lora",
                        [](json& c) {
                          c["target_modules"] = json::array({"q_proj", "v_proj", "o_proj"});
                        }),
                   Catch::Contains("target_modules select model.layers.0.self_attn.o_proj, which it has no tensors"));
  CATCH_CHECK_THAT(with("lora", [](json& c) { c["target_modules"] = "(?P<x>q_proj)"; }),
                   Catch::Contains("target_modules = \"(?P<x>q_proj)\": not a regular expression peft can match"));
  // Without its rank_pattern, the saved rank-8 and rank-2 factors do not fit r = 4.
  CATCH_CHECK_THAT(with("rslora_patterns", [](json& c) { c["rank_pattern"] = json::object(); }),
                   Catch::Contains("lora_A.weight"));
  CATCH_CHECK_THAT(with("dora", [](json& c) { c["use_dora"] = false; }),
                   Catch::Contains("has a lora_magnitude_vector, but use_dora is false"));
  CATCH_CHECK_THAT(with("ia3", [](json& c) { c["feedforward_modules"] = json::array(); }),
                   Catch::Contains("down_proj.ia3_l"));  // [1, in] saved where [out, 1] is expected
  CATCH_CHECK_THAT(with("lora", [](json& c) { c = json::array(); }), Catch::Contains("not a JSON object"));

  const auto without = [&](const std::string& suffix) {
    return apply_error(tensors_edited(folder, "lora", [&](auto& tensors) {
      tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                   [&](const auto& t) { return t.first.find(suffix) != std::string::npos; }),
                    tensors.end());
    }));
  };
  CATCH_CHECK_THAT(without("layers.2.self_attn.q_proj.lora_B"),
                   Catch::Contains("model.layers.2.self_attn.q_proj has no lora_B.weight tensor"));
  CATCH_CHECK_THAT(without("lora_"), Catch::Contains("no adapter tensors in it"));
  CATCH_CHECK_THAT(
      apply_error(tensors_edited(
          folder, "lora",
          [](auto& tensors) {
            tensors.emplace_back("base_model.model.model.embed_tokens.lora_embedding_A", at::zeros({4, 2048}));
          })),
      Catch::Contains("embed_tokens.lora_embedding_A is LoRA on an embedding"));
  CATCH_CHECK_THAT(
      apply_error(tensors_edited(folder, "lora",
                                 [](auto& tensors) {
                                   tensors.emplace_back("base_model.model.lm_head.weight", at::zeros({2048, 192}));
                                 })),
      Catch::Contains("lm_head.weight is neither lora's nor a head this model trains"));
  CATCH_CHECK_THAT(apply_error(folder / "missing"), Catch::Contains("missing does not exist"));
}

CATCH_TEST_CASE("an adapter of another model is refused before anything loads") {
  // The shipped adapter on a llama with two layers: its tensors name modules that model lacks.
  TempFolder folder;
  std::ifstream in(kShipped / "config.json");
  json config = json::parse(in);
  config["num_hidden_layers"] = 2;
  peft::test::write_text(folder / "config.json", config.dump());
  const auto small = peft::test::make_backbone("llama", {{"config", (folder / "config.json").string()}});
  CATCH_CHECK_THROWS_WITH(
      peft::adapt_to_hf_adapter(peft::test::builtin_registry(), small, peft::read_hf_adapter(kAdapters / "lora")),
      Catch::Contains("it adapts model.layers.2.self_attn.q_proj, which is not one of the model's Linear layers"));
}

CATCH_TEST_CASE("IA3 and GIFT state their default targets by role: on a LLaMA, HF peft's IA3 modules and o_proj") {
  peft::MethodSection ia3;
  ia3.plugin = "ia3";
  ia3.context = "test [method]";
  const peft::AdaptedModel model = peft::adapt(peft::test::builtin_registry(), shipped_llama(), ia3, false);
  // HF peft's IA3 defaults for llama: k_proj, v_proj, down_proj, with down_proj feed-forward (the ia3 fixture names
  // them explicitly): the same modules, and the same shapes of ia3_l.
  const peft::HfAdapter saved = peft::read_hf_adapter(kAdapters / "ia3");
  std::vector<std::string> expected = saved.method.targets;
  std::vector<std::string> actual = model.site_names;
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  CATCH_CHECK(actual == expected);
  for (const auto& trainable : model.trainable) {
    CATCH_INFO(trainable.name);
    const at::Tensor* hf = nullptr;
    for (const auto& [name, tensor] : saved.tensors) {
      if (name == trainable.name) hf = &tensor;
    }
    CATCH_REQUIRE(hf != nullptr);
    CATCH_CHECK(trainable.tensor.sizes() == hf->sizes());
  }
  peft::MethodSection gift;
  gift.plugin = "gift";
  gift.context = "test [method]";
  const peft::AdaptedModel generated = peft::adapt(peft::test::builtin_registry(), shipped_llama(), gift, false);
  CATCH_CHECK(generated.site_names ==
              std::vector<std::string>{"model.layers.0.self_attn.o_proj", "model.layers.1.self_attn.o_proj",
                                       "model.layers.2.self_attn.o_proj", "model.layers.3.self_attn.o_proj"});
}
