// A task other than image classification, end to end through `peft run`, `eval` and `sweep`: the `tiny_lm` backbone
// and the `next_token` task come as plugins (tests/fixtures/text), the metrics are the task's (perplexity, lower is
// better), and the backbone's LM head stays frozen.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "generate.h"
#include "peft/checkpoint_source.h"
#include "peft/safetensors.h"
#include "plugin_loader.h"
#include "support/builtin_plugins.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_peft;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

// Sequences that count up modulo 16 from a start, of 4 to 9 tokens: the next token is always the current plus one,
// which the tiny LM can learn.
std::string counting(int count, int offset) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    const int start = (7 * i + offset) % 16;
    const int length = 4 + (i + offset) % 6;
    for (int t = 0; t < length; ++t) text += std::to_string((start + t) % 16) + (t + 1 < length ? " " : "\n");
  }
  return text;
}

// The data in `folder`/tokens and a LoRA recipe on the tiny LM; returns the recipe.
fs::path write_text_recipe(const TempFolder& folder, const std::string& extra = "") {
  write_text(folder / "tokens/train.txt", counting(48, 0));
  write_text(folder / "tokens/val.txt", counting(16, 3));
  write_text(folder / "tokens/test.txt", counting(16, 5));
  const fs::path recipe = folder / "recipe.toml";
  write_text(recipe, R"(schema_version = 1
task = "next_token"
seed = 3
threads = 1
[backbone]
plugin = "tiny_lm"
[method]
plugin = "lora"
targets = ["proj"]
[method.options]
r = 4
lora_alpha = 8
[data]
root = "tokens"
workers = 0
[train]
epochs = 6
batch_size = 8
lr = 0.2
warmup_epochs = 0
eval_every = 1
)" + extra);
  return recipe;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string with_text_plugins(const std::string& arguments) {
  return "--plugin-path " + quoted(PEFT_TEXT_PLUGIN_DIR) + " " + arguments;
}

}  // namespace

CATCH_TEST_CASE("a text task trains through peft run: its metrics, its direction, its frozen LM head") {
  TempFolder folder;
  const fs::path recipe = write_text_recipe(folder);
  const fs::path run = folder / "run";
  const auto trained = run_peft(with_text_plugins("run " + quoted(recipe) + " --out " + quoted(run)));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  CATCH_CHECK_THAT(trained.out, Catch::Contains("val perplexity ") && Catch::Contains(" sequences)"));
  CATCH_CHECK_THAT(trained.out, !Catch::Contains("not a model selection"));
  // Evaluated on test, the last line says what to select on: this data's own validation split (not val200).
  const auto on_test = run_peft(with_text_plugins("run " + quoted(recipe) + " --out " + quoted(folder / "on-test") +
                                                  " --set data.eval_split=test --set train.epochs=1"));
  CATCH_CHECK_THAT(on_test.out, Catch::Contains("(on test, so not a model selection: use [data] eval_split = "
                                                "\"val\", or peft sweep)"));
  // Trained on val itself, a split that holds training data (its name says train) is no validation split either.
  write_text(folder / "tokens/trainval.txt", counting(64, 0));
  const auto on_val = run_peft(with_text_plugins("run " + quoted(recipe) + " --out " + quoted(folder / "on-val") +
                                                 " --set data.train_split=val --set data.eval_split=test "
                                                 "--set train.epochs=1"));
  CATCH_CHECK_THAT(on_val.out, Catch::Contains("(on test, so not a model selection: evaluate on a validation split "
                                               "([data] eval_split), or peft sweep)"));

  const auto summary = peft::test::read_json(run / "summary.json");
  CATCH_CHECK(summary["task"] == "next_token");
  CATCH_CHECK(summary["primary_metric"] == "perplexity");
  CATCH_CHECK(summary["metrics"][0] ==
              nlohmann::json({{"name", "perplexity"}, {"higher_is_better", false}, {"percent", false}}));
  CATCH_CHECK(summary["final"]["sequences"] == 16);
  CATCH_CHECK(summary["trainable_parameters"]["head"] == 0);  // the LM head stays as loaded
  CATCH_CHECK(summary["timing"].contains("train_sequences_per_s"));

  // Perplexity per evaluation, from metrics.jsonl: it falls, and the best epoch is the lowest one.
  std::vector<double> perplexity;
  for (const auto& record : peft::test::metric_records(run)) {
    if (record["type"] == "eval") {
      perplexity.push_back(record["perplexity"].get<double>());
      CATCH_CHECK(std::abs(std::log(record["perplexity"].get<double>()) - record["loss"].get<double>()) < 1e-9);
      CATCH_CHECK(record["token_accuracy"].get<double>() >= 0.0);
    }
    if (record["type"] == "epoch") CATCH_CHECK(record.contains("train_perplexity"));
  }
  CATCH_REQUIRE(perplexity.size() == 6);
  CATCH_CHECK(perplexity.back() < 0.5 * perplexity.front());
  const auto lowest = std::min_element(perplexity.begin(), perplexity.end());
  CATCH_CHECK(summary["best"]["metric"] == "perplexity");
  CATCH_CHECK(summary["best"]["perplexity"] == *lowest);
  CATCH_CHECK(summary["best"]["epoch"] == 1 + (lowest - perplexity.begin()));

  // Only LoRA's tensors are in the adapter: no LM head.
  const peft::TensorFile adapter = peft::read_safetensors(run / "adapter_model.safetensors");
  for (const auto& [name, tensor] : adapter.tensors) CATCH_CHECK(name.find("lora") != std::string::npos);

  // peft eval reports the same metrics on another split.
  const auto evaluated = run_peft(with_text_plugins("eval " + quoted(run) + " --split test --json"));
  CATCH_REQUIRE(evaluated.exit_code == 0);
  const auto json = nlohmann::json::parse(evaluated.out);
  CATCH_CHECK(json["split"] == "test");
  CATCH_CHECK(json["sequences"] == 16);
  CATCH_CHECK(json.contains("perplexity"));
  CATCH_CHECK(json.contains("token_accuracy"));

  // peft report plots the task's primary metric; peft inspect names the task and sizes no new head.
  const auto reported = run_peft(with_text_plugins("report " + quoted(run)));
  CATCH_INFO(reported.err);
  CATCH_REQUIRE(reported.exit_code == 0);
  CATCH_CHECK_THAT(read_file(run / "report" / "curves.gp"), Catch::Contains("set ylabel \"perplexity\""));
  CATCH_CHECK_THAT(read_file(run / "report" / "index.html"), Catch::Contains("<th>final perplexity</th>"));
  const auto inspected = run_peft(with_text_plugins("inspect --json " + quoted(recipe)));
  CATCH_REQUIRE(inspected.exit_code == 0);
  const auto model = nlohmann::json::parse(inspected.out);
  CATCH_CHECK(model["task"] == "next_token");
  CATCH_CHECK(model["num_classes"].is_null());
}

CATCH_TEST_CASE("a sweep over a text task selects by its primary metric in its direction: the lowest perplexity") {
  TempFolder folder;
  // lr 1e-6 leaves the model about where it started; lr 0.2 lowers the perplexity. A sweep that kept the higher
  // value would pick lr 1e-6.
  const fs::path recipe =
      write_text_recipe(folder,
                        "[sweep]\ngrid = { \"train.lr\" = [1e-6, 0.2] }\ntune = { train_split = \"train\", "
                        "eval_split = \"val\" }\nfinal = { train_split = \"train\", eval_split = \"test\" }\n");
  const auto swept = run_peft(with_text_plugins("sweep " + quoted(recipe) + " --out " + quoted(folder / "sweep")));
  CATCH_INFO(swept.err);
  CATCH_REQUIRE(swept.exit_code == 0);
  CATCH_CHECK_THAT(swept.out, Catch::Contains("selected train.lr=0.2 (tuning perplexity "));
  std::ifstream csv(folder / "sweep" / "results.csv");
  std::string header;
  std::getline(csv, header);
  CATCH_CHECK(header == "phase,trial,config,seed,split,perplexity");

  // [sweep] metric picks another of the task's metrics; one it does not report is refused before any trial.
  write_text(recipe, read_file(recipe) + "metric = \"bleu\"\n");
  const auto refused = run_peft(with_text_plugins("sweep " + quoted(recipe) + " --out " + quoted(folder / "other")));
  peft::test::check_user_error(refused,
                               "[sweep] metric: metric 'bleu' is not one the task reports, expected one of: "
                               "perplexity, loss, token_accuracy");
  CATCH_CHECK_FALSE(fs::exists(folder / "other"));
}

namespace {

// The text recipe on the llama backbone loaded from `llama` (a model folder), `method` on its attention projections,
// two epochs.
fs::path llama_recipe(const TempFolder& folder, const std::string& method, const fs::path& llama) {
  const fs::path recipe = write_text_recipe(folder);
  std::string text = read_file(recipe);
  text.replace(text.find("plugin = \"tiny_lm\""), std::string("plugin = \"tiny_lm\"").size(),
               "plugin = \"llama\"\ncheckpoint = \"" + llama.string() + "\"");
  text.replace(text.find("plugin = \"lora\"\ntargets = [\"proj\"]"),
               std::string("plugin = \"lora\"\ntargets = [\"proj\"]").size(),
               "plugin = \"" + method + "\"\ntargets = [\"self_attn.*\"]");
  text = text.substr(0, text.find("[method.options]")) + text.substr(text.find("[data]"));
  text.replace(text.find("epochs = 6"), std::string("epochs = 6").size(), "epochs = 2");
  text.replace(text.find("lr = 0.2"), std::string("lr = 0.2").size(), "lr = 0.01");
  write_text(recipe, text);
  return recipe;
}

}  // namespace

CATCH_TEST_CASE("LoRA and GIFT fine-tune the Hugging Face llama folder through peft run on a text task") {
  TempFolder folder;
  const fs::path llama = fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny";
  for (const std::string method : {"lora", "gift"}) {
    CATCH_INFO(method);
    const fs::path recipe = llama_recipe(folder, method, llama);
    const fs::path run = folder / method;
    const auto trained = run_peft(with_text_plugins("run " + quoted(recipe) + " --out " + quoted(run)));
    CATCH_INFO(trained.err);
    CATCH_REQUIRE(trained.exit_code == 0);
    const auto summary = peft::test::read_json(run / "summary.json");
    CATCH_CHECK(summary["backbone"] == "llama");
    CATCH_CHECK(summary["sites"] == 8);  // q, k, v, o in both layers
    CATCH_CHECK(summary["trainable_parameters"]["head"] == 0);
    std::vector<double> perplexity;
    for (const auto& record : peft::test::metric_records(run)) {
      if (record["type"] == "eval") perplexity.push_back(record["perplexity"].get<double>());
    }
    CATCH_REQUIRE(perplexity.size() == 2);
    CATCH_CHECK(perplexity[1] < perplexity[0]);

    // What peft generate runs on the run folder: the backbone with its trained adapters; merged, the same tokens.
    const peft::PluginSet plugins = peft::discover_plugins({PEFT_TEXT_PLUGIN_DIR}, true);
    peft::AdaptedModel tuned = peft::generation_model(plugins.registry, run);
    peft::AdaptedModel base = peft::generation_model(plugins.registry, llama);
    peft::GenerateOptions options;
    options.max_new_tokens = 6;
    options.keep_logits = true;
    const std::vector<std::int64_t> prompt{1, 5, 6, 7};
    const peft::Generation adapted = peft::generate_ids(tuned, prompt, std::nullopt, options);
    const peft::Generation plain = peft::generate_ids(base, prompt, std::nullopt, options);
    CATCH_CHECK(peft::test::relative_error(adapted.logits[0], plain.logits[0]) > 1e-4);
    tuned.method->merge();
    const peft::Generation merged = peft::generate_ids(tuned, prompt, std::nullopt, options);
    CATCH_CHECK(merged.new_ids == adapted.new_ids);
    for (std::size_t i = 0; i < merged.logits.size(); ++i) {
      CATCH_CHECK(peft::test::relative_error(merged.logits[i], adapted.logits[i]) < 1e-5);
    }

    // Merged into a model folder, each tensor keeps the dtype the checkpoint stored it in (BF16 and F16 shards here).
    const fs::path merged_folder = folder / (method + "-merged");
    const auto merging = run_peft(with_text_plugins("merge " + quoted(run) + " -o " + quoted(merged_folder)));
    CATCH_INFO(merging.err);
    CATCH_REQUIRE(merging.exit_code == 0);
    const peft::CheckpointSource original = peft::CheckpointSource::open(llama);
    const peft::CheckpointSource written = peft::CheckpointSource::open(merged_folder / "model.safetensors");
    CATCH_REQUIRE(written.tensors().size() == original.tensors().size());
    std::map<std::string, at::ScalarType> stored;
    for (const auto& info : original.tensors()) stored[info.name] = info.dtype;
    std::set<at::ScalarType> kinds;
    for (const auto& info : written.tensors()) {
      CATCH_CHECK(info.dtype == stored.at(info.name));
      kinds.insert(info.dtype);
    }
    CATCH_CHECK(kinds.size() == 2);
  }
}

CATCH_TEST_CASE("a shard of a sharded model folder replaced after training is refused by name, not used") {
  TempFolder folder;
  const fs::path llama = folder / "llama";
  fs::copy(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny", llama);
  const fs::path recipe = llama_recipe(folder, "lora", llama);
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft(with_text_plugins("run " + quoted(recipe) + " --out " + quoted(run) +
                                           " --set "
                                           "train.epochs=1"))
                    .exit_code == 0);
  CATCH_REQUIRE(run_peft(with_text_plugins("eval " + quoted(run))).exit_code == 0);
  // The second shard's last data byte changed, its size and header kept: only its bytes tell.
  const fs::path shard = llama / "model-00002-of-00002.safetensors";
  std::string bytes = read_file(shard);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x01);
  write_text(shard, bytes);
  const std::string expected = "is not the one this run was trained on (" + shard.string() + ": now ";
  peft::test::check_user_error(run_peft(with_text_plugins("eval " + quoted(run))), expected);
  peft::test::check_user_error(run_peft(with_text_plugins("merge " + quoted(run) + " -o " + quoted(folder / "merged"))),
                               expected);
  CATCH_CHECK_FALSE(fs::exists(folder / "merged"));
}
