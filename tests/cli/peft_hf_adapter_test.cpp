// Adapters that Hugging Face peft trained, used through the command line: `peft eval RECIPE --adapter DIR`,
// `peft generate MODEL_DIR --adapter DIR` and `peft run RECIPE --init-adapter DIR`; and peft's own exports read
// back the same way (a LoRA run with per-module ranks, exported, evaluates as the run does).
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "generate.h"
#include "hf_adapter/hf_adapter.h"
#include "peft/safetensors.h"
#include "support/builtin_plugins.h"
#include "support/llama_folder.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using nlohmann::json;
using peft::test::check_user_error;
using peft::test::quoted;
using peft::test::run_peft;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

const fs::path kAdapters = fs::path(PEFT_HF_PEFT_FIXTURE_DIR) / "adapters";
const fs::path kShipped = fs::path(PEFT_MODELS_DIR) / "llama-mini-fortunes";

// A causal_lm recipe on the llama folder `model`, with `tables` ([method] or none, [output]) over `folder`/data.
fs::path write_recipe(const TempFolder& folder, const fs::path& model, const std::string& name,
                      const std::string& tables, const std::string& output = "") {
  return peft::test::counting_recipe(folder, model, name, tables + output,
                                     "epochs = 1\nbatch_size = 8\nlr = 0.01\nwarmup_epochs = 0\n", 16);
}

json json_of(const peft::test::CommandResult& result) {
  CATCH_INFO(result.err);
  CATCH_REQUIRE(result.exit_code == 0);
  return json::parse(result.out);
}

}  // namespace

CATCH_TEST_CASE("a LoRA run with per-module ranks exports as peft's rank_pattern and evaluates back as the run") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  const fs::path recipe = write_recipe(folder, model, "ranks",
                                       "[method]\nplugin = \"lora\"\ntargets = [\"q_proj\", \"v_proj\"]\n"
                                       "[method.options]\nr = 4\nrank_pattern = [\"v_proj=2\"]\n"
                                       "alpha_pattern = [\"layers.0.self_attn.q_proj=16\"]\n");
  const fs::path run = folder / "run";
  const auto trained = run_peft("run " + quoted(recipe) + " --out " + quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  // The run's own adapter_config.json holds the patterns as peft writes them.
  const json own = peft::test::read_json(run / "adapter_config.json");
  CATCH_CHECK(own["rank_pattern"] == json{{"v_proj", 2}});
  CATCH_CHECK(own["alpha_pattern"] == json{{"layers.0.self_attn.q_proj", 16.0}});
  const peft::TensorFile tensors = peft::read_safetensors(run / "adapter_model.safetensors");
  CATCH_CHECK(tensors.at("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight").sizes().vec() ==
              std::vector<std::int64_t>{2, 64});

  const fs::path exported = folder / "exported";
  CATCH_REQUIRE(run_peft("export " + quoted(run) + " -o " + quoted(exported)).exit_code == 0);
  const json config = peft::test::read_json(exported / "adapter_config.json");
  CATCH_CHECK(config["r"] == 4);
  CATCH_CHECK(config["rank_pattern"]["model.layers.0.self_attn.v_proj"] == 2);
  CATCH_CHECK(config["alpha_pattern"]["model.layers.0.self_attn.v_proj"] == 2.0);

  const json by_run = json_of(run_peft("eval " + quoted(run) + " --json"));
  const json by_adapter = json_of(run_peft("eval " + quoted(recipe) + " --adapter " + quoted(exported) + " --json"));
  CATCH_CHECK(by_adapter["adapter"] == exported.string());
  CATCH_CHECK(by_adapter["loss"].get<double>() == Catch::Detail::Approx(by_run["loss"].get<double>()).epsilon(1e-5));
  const json base = json_of(run_peft("eval " + quoted(recipe) + " --json"));
  CATCH_CHECK(std::abs(base["loss"].get<double>() - by_run["loss"].get<double>()) > 1e-3);

  check_user_error(run_peft("eval " + quoted(run) + " --adapter " + quoted(exported)),
                   "goes with a recipe, whose backbone and data it is evaluated on");
  // A pattern that names no selected site is a typo, not a silent default rank.
  const fs::path typo = write_recipe(folder, model, "typo",
                                     "[method]\nplugin = \"lora\"\ntargets = [\"q_proj\"]\n"
                                     "[method.options]\nrank_pattern = [\"v_projj=2\"]\n");
  check_user_error(run_peft("run " + quoted(typo) + " --out " + quoted(folder / "typo-run")),
                   "rank_pattern entry 'v_projj' names none of the selected sites");
  const fs::path malformed = write_recipe(
      folder, model, "malformed", "[method]\nplugin = \"lora\"\n[method.options]\nrank_pattern = [\"q_proj\"]\n");
  check_user_error(run_peft("run " + quoted(malformed) + " --out " + quoted(folder / "malformed-run")),
                   "rank_pattern entry 'q_proj', expected MODULE=RANK with RANK an integer >= 1");
}

CATCH_TEST_CASE(
    "peft generate MODEL_DIR --adapter HF_DIR continues as the adapted model, its base found from the config") {
  TempFolder folder;
  const std::string tail = " --prompt 'Once upon' --max-new-tokens 6 --json";
  const json adapted =
      json_of(run_peft("generate " + quoted(kShipped) + " --adapter " + quoted(kAdapters / "lora") + tail));
  const json plain = json_of(run_peft("generate " + quoted(kShipped) + tail));
  CATCH_CHECK(adapted["ids"] != plain["ids"]);
  // The same as the library's model: the shipped model with the adapter read as lora.
  peft::AdaptedModel model =
      peft::hf_adapter_generation_model(peft::test::builtin_registry(), kShipped, kAdapters / "lora");
  peft::GenerateOptions options;
  options.max_new_tokens = 6;
  CATCH_CHECK(adapted["ids"] == json(peft::generate_text(model, "Once upon", options).new_ids));

  // Without MODEL_DIR: base_model_name_or_path, when it is a folder here.
  const fs::path copy = folder / "adapter";
  fs::create_directories(copy);
  fs::copy_file(kAdapters / "lora" / "adapter_model.safetensors", copy / "adapter_model.safetensors");
  json config = peft::test::read_json(kAdapters / "lora" / "adapter_config.json");
  config["base_model_name_or_path"] = fs::absolute(kShipped).string();
  write_text(copy / "adapter_config.json", config.dump());
  CATCH_CHECK(json_of(run_peft("generate --adapter " + quoted(copy) + tail))["ids"] == adapted["ids"]);
  config["base_model_name_or_path"] = "meta-llama/Llama-3.1-8B";
  write_text(copy / "adapter_config.json", config.dump());
  check_user_error(run_peft("generate --adapter " + quoted(copy) + tail),
                   "base_model_name_or_path = \"meta-llama/Llama-3.1-8B\" is not a folder here");
}

CATCH_TEST_CASE("peft run --init-adapter starts from a Hugging Face peft adapter: its method, options and tensors") {
  TempFolder folder;
  const fs::path recipe = write_recipe(folder, kShipped, "init", "", "[output]\nkeep_epochs = true\n");
  const fs::path run = folder / "run";
  const auto trained = run_peft("run " + quoted(recipe) + " --init-adapter " + quoted(kAdapters / "rslora_patterns") +
                                " --out " + quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  // Epoch 0 is the adapter as HF peft saved it, under the same names.
  const peft::TensorFile saved = peft::read_safetensors(kAdapters / "rslora_patterns" / "adapter_model.safetensors");
  const peft::TensorFile start = peft::read_safetensors(run / "epochs" / "epoch-000.safetensors");
  const peft::TensorFile end = peft::read_safetensors(run / "adapter_model.safetensors");
  CATCH_CHECK(start.tensors.size() == saved.tensors.size());
  for (const auto& [name, tensor] : saved.tensors) {
    CATCH_INFO(name);
    CATCH_CHECK(at::equal(start.at(name), tensor));
  }
  const std::string b = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
  CATCH_CHECK(!at::equal(end.at(b), saved.at(b)));
  CATCH_CHECK_THAT(trained.err, Catch::Contains("starting from the adapter in " +
                                                (kAdapters / "rslora_patterns").string() + " (lora)"));
  // The run's recipe says what it trained, so that eval, resume and merge rebuild it without the adapter folder.
  std::ifstream in(run / "recipe.toml");
  const std::string kept((std::istreambuf_iterator<char>(in)), {});
  CATCH_CHECK(kept.find("plugin = 'lora'") != std::string::npos);
  CATCH_CHECK(kept.find("use_rslora = true") != std::string::npos);
  CATCH_CHECK(kept.find("'model.layers.0.self_attn.q_proj=8'") != std::string::npos);
  CATCH_CHECK(run_peft("eval " + quoted(run)).exit_code == 0);

  const fs::path other = write_recipe(folder, kShipped, "other", "[method]\nplugin = \"gift\"\n");
  check_user_error(
      run_peft("run " + quoted(other) + " --init-adapter " + quoted(kAdapters / "lora") + " --out " +
               quoted(folder / "other-run")),
      "plugin = \"gift\", but --init-adapter " + (kAdapters / "lora").string() + " holds a 'lora' adapter");
  const fs::path options =
      write_recipe(folder, kShipped, "options", "[method]\nplugin = \"lora\"\n[method.options]\nr = 16\n");
  check_user_error(run_peft("run " + quoted(options) + " --init-adapter " + quoted(kAdapters / "lora") + " --out " +
                            quoted(folder / "options-run")),
                   "options.r is set, but with --init-adapter");
  // An adapter without patterns: its empty rank_pattern and alpha_pattern go into the recipe as [].
  const auto plain = run_peft("run " + quoted(recipe) + " --init-adapter " + quoted(kAdapters / "lora") + " --out " +
                              quoted(folder / "plain-run"));
  CATCH_INFO(plain.err);
  CATCH_CHECK(plain.exit_code == 0);
  check_user_error(run_peft("run --resume " + quoted(run) + " --init-adapter " + quoted(kAdapters / "lora")),
                   "--init-adapter starts a run");
  CATCH_CHECK(!fs::exists(folder / "other-run"));
}
