// `peft export`: a LoRA or GIFT run on a llama model folder written as a Hugging Face peft LoRA adapter, whose
// factors give the run's weights exactly (W + B A equals the merged weight), under the key names and config that
// PeftModel.from_pretrained and llama.cpp's convert_lora_to_gguf.py read.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <map>

#include "generate.h"
#include "peft/backbone.h"
#include "peft/method.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "support/builtin_plugins.h"
#include "support/llama_folder.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_peft;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

// A causal_lm recipe on the float32 llama folder `model` with `method` (its [method] lines) over `folder`/data.
fs::path write_recipe(const TempFolder& folder, const fs::path& model, const std::string& name,
                      const std::string& method) {
  return peft::test::counting_recipe(folder, model, name, "[method]\n" + method,
                                     "epochs = 2\nbatch_size = 8\nlr = 0.01\nwarmup_epochs = 0\neval_every = 2\n", 24);
}

fs::path trained_run(const TempFolder& folder, const fs::path& model, const std::string& name,
                     const std::string& method) {
  const fs::path run = folder / name;
  const auto trained = run_peft("run " + quoted(write_recipe(folder, model, name, method)) + " --out " + quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  return run;
}

}  // namespace

CATCH_TEST_CASE(
    "peft export writes LoRA and GIFT runs as Hugging Face peft LoRA adapters: W + B A is the run's "
    "weight") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  struct Case {
    std::string name;
    std::string method;
    std::int64_t rank;
    std::vector<std::string> sites;
  };
  const std::vector<Case> cases{
      // GIFT as the official LLaMA code runs it: ΔW = (W Pᵀ) Qᵀ, rank d.
      {"gift-linear",
       "plugin = \"gift\"\ntargets = [\"q_proj\", \"v_proj\"]\n[method.options]\nschema = \"linear\"\ndim = 4\n",
       4,
       {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj",
        "model.layers.1.self_attn.v_proj"}},
      // PaCa with the recovery bias, which adds one row to every ΔW: rank d + 1.
      {"gift-paca",
       "plugin = \"gift\"\ntargets = [\"o_proj\"]\n[method.options]\nschema = \"paca\"\ndim = 4\nclusters = 4\n"
       "recovery_bias = true\n",
       5,
       {"model.layers.0.self_attn.o_proj", "model.layers.1.self_attn.o_proj"}},
      // LoRA's own scale lora_alpha / r = 2 moves into B: the exported lora_alpha is r.
      {"lora",
       "plugin = \"lora\"\ntargets = [\"v_proj\"]\n[method.options]\nr = 4\nlora_alpha = 8\n",
       4,
       {"model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.v_proj"}},
  };
  for (const Case& c : cases) {
    CATCH_INFO(c.name);
    const fs::path run = trained_run(folder, model, c.name, c.method);
    const fs::path out = folder / (c.name + "-lora");
    const auto exported = run_peft("export " + quoted(run) + " -o " + quoted(out));
    CATCH_INFO(exported.err);
    CATCH_REQUIRE(exported.exit_code == 0);
    CATCH_CHECK_THAT(exported.out, Catch::Contains("(r = " + std::to_string(c.rank) +
                                                   ", lora_alpha = " + std::to_string(c.rank) + ")"));

    // The LoraConfig PeftModel.from_pretrained reads: scale 1, the run's sites, the base model folder.
    const auto config = peft::test::read_json(out / "adapter_config.json");
    CATCH_CHECK(config["peft_type"] == "LORA");
    CATCH_CHECK(config["task_type"] == "CAUSAL_LM");
    CATCH_CHECK(config["r"] == c.rank);
    CATCH_CHECK(config["lora_alpha"] == static_cast<double>(c.rank));
    CATCH_CHECK(config["use_rslora"] == false);
    CATCH_CHECK(config["use_dora"] == false);
    CATCH_CHECK(config["base_model_name_or_path"] == model.string());
    CATCH_CHECK(config["target_modules"] == nlohmann::json(c.sites));

    // Keys as peft saves them (llama.cpp strips "base_model.model." to find the base tensor), float32.
    const peft::TensorFile adapter = peft::read_safetensors(out / "adapter_model.safetensors");
    CATCH_REQUIRE(adapter.tensors.size() == 2 * c.sites.size());
    std::map<std::string, at::Tensor> factors;
    for (const auto& [name, tensor] : adapter.tensors) {
      CATCH_CHECK(tensor.scalar_type() == at::kFloat);
      factors[name] = tensor;
    }

    // W + B A equals the weight the run merges into each site (and so what it computes: merged equals unmerged).
    peft::AdaptedModel tuned = peft::generation_model(peft::test::builtin_registry(), run);
    std::map<std::string, at::Tensor> before;
    for (auto& [name, tensor] : peft::state_dict(*tuned.backbone)) before[name] = tensor.detach().clone();
    tuned.method->merge();
    std::map<std::string, at::Tensor> after;
    for (auto& [name, tensor] : peft::state_dict(*tuned.backbone)) after[name] = tensor.detach().clone();
    tuned.method->unmerge();
    for (const auto& site : c.sites) {
      CATCH_INFO(site);
      const std::string key = "base_model.model." + site;
      CATCH_REQUIRE(factors.count(key + ".lora_A.weight") == 1);
      CATCH_REQUIRE(factors.count(key + ".lora_B.weight") == 1);
      const at::Tensor a = factors.at(key + ".lora_A.weight");
      const at::Tensor b = factors.at(key + ".lora_B.weight");
      const at::Tensor weight = before.at(site + ".weight");
      CATCH_CHECK(a.sizes() == at::IntArrayRef({c.rank, weight.size(1)}));
      CATCH_CHECK(b.sizes() == at::IntArrayRef({weight.size(0), c.rank}));
      const at::Tensor delta = after.at(site + ".weight") - weight;
      CATCH_CHECK(delta.abs().max().item<double>() > 1e-4);  // trained: not the zero update it started from
      CATCH_CHECK(peft::test::relative_error(b.matmul(a), delta) < 1e-5);
    }
    // Every other tensor is the base model's: the factors are all the run changed.
    for (const auto& [name, tensor] : before) {
      const bool site =
          std::any_of(c.sites.begin(), c.sites.end(), [&](const auto& s) { return name == s + ".weight"; });
      if (!site) CATCH_CHECK(at::equal(after.at(name), tensor));
    }

    // Written again only when asked; never into the run folder or the base model.
    peft::test::check_user_error(run_peft("export " + quoted(run) + " -o " + quoted(out)),
                                 out.string() +
                                     " exists and is not empty (hint: --overwrite to replace the files written there, "
                                     "nothing else is removed; or another folder)");
    CATCH_CHECK(run_peft("export " + quoted(run) + " -o " + quoted(out) + " --overwrite").exit_code == 0);
    peft::test::check_user_error(run_peft("export " + quoted(run) + " -o " + quoted(run) + " --overwrite"),
                                 "will not write " + (run / "adapter_model.safetensors").string() +
                                     ": it is the run's adapter_model.safetensors");
    CATCH_CHECK(run_peft("export " + quoted(run) + " -o " + quoted(model) + " --overwrite").exit_code == 1);
  }

  // A method whose change is no low-rank product is refused with the way out.
  const fs::path full = trained_run(folder, model, "full", "plugin = \"full\"\n");
  peft::test::check_user_error(run_peft("export " + quoted(full) + " -o " + quoted(folder / "full-lora")),
                               "method 'full' has no low-rank form of its adapters (LoRA and GIFT have one); peft "
                               "merge writes the merged model instead");
  CATCH_CHECK_FALSE(fs::exists(folder / "full-lora"));
}

CATCH_TEST_CASE(
    "LoRA and GIFT runs over one loaded backbone: generate switches between them, --adapter combines them") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  const fs::path lora =
      trained_run(folder, model, "lora", "plugin = \"lora\"\ntargets = [\"v_proj\"]\n[method.options]\nr = 4\n");
  const fs::path gift = trained_run(folder, model, "gift",
                                    "plugin = \"gift\"\ntargets = [\"q_proj\", \"v_proj\"]\n[method.options]\n"
                                    "schema = \"linear\"\ndim = 4\n");
  // peft generate over several runs gives each run's own continuation.
  const std::string prompt = " --prompt 'Count on from 3.' --max-new-tokens 6 --json";
  const auto together = run_peft("generate " + quoted(lora) + " " + quoted(gift) + " " + quoted(lora) + prompt);
  CATCH_INFO(together.err);
  CATCH_REQUIRE(together.exit_code == 0);
  const auto records = nlohmann::json::parse(together.out)["runs"];
  CATCH_REQUIRE(records.size() == 3);
  const auto alone_lora = nlohmann::json::parse(run_peft("generate " + quoted(lora) + prompt).out);
  const auto alone_gift = nlohmann::json::parse(run_peft("generate " + quoted(gift) + prompt).out);
  CATCH_REQUIRE(alone_lora["ids"] != alone_gift["ids"]);  // two models that differ, so a stale adapter shows
  CATCH_CHECK(records[0]["ids"] == alone_lora["ids"]);
  CATCH_CHECK(records[1]["ids"] == alone_gift["ids"]);
  CATCH_CHECK(records[2]["ids"] == alone_lora["ids"]);  // back to the first: GIFT's adapters are off again
  CATCH_CHECK(records[1]["run"] == gift.string());

  // peft eval and generate --adapter RUN:WEIGHT combine them as W + sum of w B A.
  const auto loss_of = [](const std::string& arguments) {
    const auto result = run_peft("eval --json " + arguments);
    CATCH_INFO(result.err);
    CATCH_REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out)["loss"].get<double>();
  };
  // Weight 1 on one run (0 on the other) is that run, merged.
  const double lora_alone = loss_of(quoted(lora));
  const double gift_alone = loss_of(quoted(gift));
  CATCH_CHECK(loss_of("--adapter " + quoted(fs::path(lora.string() + ":1")) + " --adapter " +
                      quoted(fs::path(gift.string() + ":0"))) == Catch::Detail::Approx(lora_alone).epsilon(1e-5));
  CATCH_CHECK(loss_of("--adapter " + quoted(fs::path(gift.string() + ":1"))) ==
              Catch::Detail::Approx(gift_alone).epsilon(1e-5));
  // Half of each is neither.
  const double half = loss_of("--adapter " + quoted(fs::path(lora.string() + ":0.5")) + " --adapter " +
                              quoted(fs::path(gift.string() + ":0.5")));
  CATCH_CHECK(half != Catch::Detail::Approx(lora_alone).epsilon(1e-4));
  CATCH_CHECK(half != Catch::Detail::Approx(gift_alone).epsilon(1e-4));
  // Generation from a combination of one run is that run's.
  const auto combined = run_peft("generate --adapter " + quoted(fs::path(lora.string() + ":1")) + prompt);
  CATCH_REQUIRE(combined.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(combined.out)["ids"] == alone_lora["ids"]);
  // A spec without a weight is one line naming it.
  peft::test::check_user_error(run_peft("eval --adapter " + quoted(lora)), "expected RUN_DIR:WEIGHT");
}
