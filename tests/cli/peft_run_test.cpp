// `peft run`, `peft eval` and `peft merge` end to end on a tiny task, as a user runs them.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "adapter_file.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "heatmap.h"
#include "peft/safetensors.h"
#include "run.h"
#include "run_setup.h"
#include "support/batches.h"
#include "support/builtin_plugins.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::read_json;
using peft::test::run_command;
using peft::test::run_peft;
using peft::test::TempFolder;
namespace data = peft::data;

namespace {

// A tiny task and a recipe for `method` in `folder`.
fs::path setup(const TempFolder& folder, const std::string& method, const std::string& train_extra = "",
               const std::string& method_extra = "") {
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", method, train_extra, method_extra));
  return recipe;
}

}  // namespace

CATCH_TEST_CASE("peft run trains LoRA into a run folder whose adapter is in Hugging Face peft's format") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "", "targets = [\"attn.qkv\"]\n");
  const fs::path run = folder / "run";
  const auto result = run_peft("run " + quoted(recipe) + " --out " + quoted(run));
  CATCH_REQUIRE(result.exit_code == 0);
  CATCH_CHECK_THAT(result.out, Catch::Contains("done: " + run.string()) && Catch::Contains("test top-1"));
  CATCH_CHECK_THAT(result.err, Catch::Contains("epoch 3/3"));  // plain lines: stderr is not a terminal here

  for (const char* file : {"recipe.toml", "metrics.jsonl", "summary.json", "checkpoint.safetensors",
                           "adapter_model.safetensors", "adapter_config.json", "peft_adapter.json"}) {
    CATCH_CHECK(fs::exists(run / file));
  }
  const auto summary = read_json(run / "summary.json");
  // LoRA r = 8 on blocks.{0,1}.attn.qkv of a 64-wide ViT: 2 × (8×64 + 192×8), and the 3-class head 64×3 + 3.
  CATCH_CHECK(summary["trainable_parameters"]["without_head"] == 4096);
  CATCH_CHECK(summary["trainable_parameters"]["total"] == 4096 + 195);
  CATCH_CHECK(summary["epochs"] == 3);
  CATCH_CHECK(summary["final"]["split"] == "test");
  CATCH_CHECK(summary["final"]["images"] == 24);
  CATCH_CHECK(summary["mergeable"] == true);
  CATCH_CHECK(summary["forward_passes"] == 1);
  for (const char* key : {"wall_seconds", "train_seconds", "train_images_per_s"}) {
    CATCH_CHECK(summary["timing"][key].get<double>() > 0);
  }
  CATCH_CHECK(summary["peak_memory_mb"].get<double>() > 0);

  // Hugging Face peft's layout: adapter_config.json (LoraConfig keys) + adapter_model.safetensors with
  // base_model.model.<module>.lora_A.weight / .lora_B.weight, the head under modules_to_save.
  const auto config = read_json(run / "adapter_config.json");
  CATCH_CHECK(config["peft_type"] == "LORA");
  CATCH_CHECK(config["r"] == 8);
  CATCH_CHECK(config["lora_alpha"] == 8.0);
  CATCH_CHECK(config["lora_dropout"] == 0.0);
  CATCH_CHECK(config["bias"] == "none");
  CATCH_CHECK(config["target_modules"] == nlohmann::json({"blocks.0.attn.qkv", "blocks.1.attn.qkv"}));
  CATCH_CHECK(config["modules_to_save"] == nlohmann::json({"head"}));
  const peft::TensorFile adapter = peft::read_safetensors(run / "adapter_model.safetensors");
  std::vector<std::string> keys;
  for (const auto& [name, tensor] : adapter.tensors) keys.push_back(name);
  std::sort(keys.begin(), keys.end());
  CATCH_CHECK(keys == std::vector<std::string>{"base_model.model.blocks.0.attn.qkv.lora_A.weight",
                                               "base_model.model.blocks.0.attn.qkv.lora_B.weight",
                                               "base_model.model.blocks.1.attn.qkv.lora_A.weight",
                                               "base_model.model.blocks.1.attn.qkv.lora_B.weight",
                                               "base_model.model.head.bias", "base_model.model.head.weight"});
  CATCH_CHECK(adapter.at("base_model.model.blocks.0.attn.qkv.lora_A.weight").sizes() == at::IntArrayRef({8, 64}));
  CATCH_CHECK(adapter.at("base_model.model.blocks.0.attn.qkv.lora_B.weight").sizes() == at::IntArrayRef({192, 8}));
  CATCH_CHECK(adapter.metadata.at("format") == "pt");

  // peft eval reads the folder back and gets the run's final numbers.
  const auto eval = run_peft("eval --json " + quoted(run));
  CATCH_REQUIRE(eval.exit_code == 0);
  const auto evaluation = nlohmann::json::parse(eval.out);
  CATCH_CHECK(evaluation["top1"] == summary["final"]["top1"]);
  CATCH_CHECK(evaluation["loss"].get<double>() == Approx(summary["final"]["loss"].get<double>()));
  CATCH_CHECK(evaluation["images"] == 24);
}

CATCH_TEST_CASE("a method without a Hugging Face config gets its name, options and own keys in adapter_config.json") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "gift", "epochs = 1\n", "[method.options]\ndim = 8\nclusters = 4\n");
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "gift")).exit_code == 0);
  const auto gift = read_json(folder / "gift" / "adapter_config.json");
  CATCH_CHECK(gift["method"] == "gift");
  CATCH_CHECK(gift["options"]["dim"] == 8);
  CATCH_CHECK(gift["options"]["clusters"] == 4);
  CATCH_CHECK(gift["options"]["schema"] == "paca");
  // GIFT's own key: one generator per site shape, with its sites.
  CATCH_REQUIRE(gift["groups"].size() == 1);
  CATCH_CHECK(gift["groups"][0]["layers"] == 2);
  CATCH_CHECK(gift["groups"][0]["sites"] == nlohmann::json({"blocks.0.attn.proj", "blocks.1.attn.proj"}));
  // A method that writes nothing of its own: the name and the (empty) options.
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", "bitfit", "epochs = 1\n"));
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "bitfit")).exit_code == 0);
  CATCH_CHECK(read_json(folder / "bitfit" / "adapter_config.json") ==
              nlohmann::json({{"method", "bitfit"}, {"options", nlohmann::json::object()}}));
}

CATCH_TEST_CASE("a run stopped after an epoch and resumed ends exactly as an uninterrupted one") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "lr = 0.005\n", "[method.options]\nlora_dropout = 0.1\n");
  // Randomness in training that resuming must replay; and per-epoch adapters, which must come out the same.
  const std::string drop_path = " --set backbone.drop_path=0.2 --set output.keep_epochs=true";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + drop_path + " --out " + quoted(folder / "whole")).exit_code == 0);

  const auto stopped =
      run_peft("run " + quoted(recipe) + drop_path + " --out " + quoted(folder / "parts") + " --stop-after 1");
  CATCH_REQUIRE(stopped.exit_code == 0);
  CATCH_CHECK_THAT(stopped.out, Catch::Contains("stopped after epoch 1") && Catch::Contains("--resume"));
  CATCH_CHECK_FALSE(fs::exists(folder / "parts" / "summary.json"));
  const auto resumed = run_peft("run --resume " + quoted(folder / "parts"));
  CATCH_REQUIRE(resumed.exit_code == 0);
  CATCH_CHECK_THAT(resumed.err, Catch::Contains("resuming") && Catch::Contains("after epoch 1"));

  peft::test::check_same_run(folder / "whole", folder / "parts");
  // epoch-000 (before training) to epoch-003, equal in both; the last is the run's adapter; each epoch differs.
  CATCH_CHECK(peft::kept_epochs(folder / "parts") == std::vector<std::int64_t>{0, 1, 2, 3});
  std::vector<peft::TensorFile> epochs;
  for (std::int64_t epoch = 0; epoch <= 3; ++epoch) {
    epochs.push_back(peft::read_safetensors(peft::epoch_adapter_file(folder / "parts", epoch)));
    const peft::TensorFile whole = peft::read_safetensors(peft::epoch_adapter_file(folder / "whole", epoch));
    CATCH_REQUIRE(whole.tensors.size() == epochs.back().tensors.size());
    for (std::size_t i = 0; i < whole.tensors.size(); ++i) {
      CATCH_CHECK(at::equal(whole.tensors[i].second, epochs.back().tensors[i].second));
    }
  }
  const peft::TensorFile final_adapter = peft::read_safetensors(folder / "parts" / "adapter_model.safetensors");
  const auto same = [](const peft::TensorFile& a, const peft::TensorFile& b) {
    for (std::size_t i = 0; i < a.tensors.size(); ++i) {
      if (a.tensors[i].first != b.tensors[i].first || !at::equal(a.tensors[i].second, b.tensors[i].second)) {
        return false;
      }
    }
    return a.tensors.size() == b.tensors.size();
  };
  CATCH_CHECK(same(epochs[3], final_adapter));
  for (std::size_t e = 0; e < 3; ++e) CATCH_CHECK_FALSE(same(epochs[e], epochs[e + 1]));

  // --overwrite removes them, and nothing a user put beside them.
  peft::test::write_text(folder / "parts" / "epochs" / "notes.txt", "mine");
  const auto again = run_peft("run " + quoted(recipe) + drop_path + " --set train.epochs=1 --out " +
                              quoted(folder / "parts") + " --overwrite");
  CATCH_REQUIRE(again.exit_code == 0);
  CATCH_CHECK_THAT(again.err, Catch::Contains("kept what is not peft's") && Catch::Contains("epochs/notes.txt"));
  CATCH_CHECK(peft::kept_epochs(folder / "parts") == std::vector<std::int64_t>{0, 1});
  CATCH_CHECK(fs::exists(folder / "parts" / "epochs" / "notes.txt"));
}

CATCH_TEST_CASE("peft merge writes a plain backbone checkpoint that gives the adapted model's logits") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "epochs = 1\n");
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  const auto merged = run_peft("merge " + quoted(run) + " -o " + quoted(folder / "merged.safetensors"));
  CATCH_REQUIRE(merged.exit_code == 0);

  // The merged file as a plain checkpoint of a fresh vit, against the run's model (backbone + adapter), on images
  // of the task.
  const peft::TensorFile file = peft::read_safetensors(folder / "merged.safetensors");
  CATCH_CHECK(file.find("blocks.0.attn.qkv.weight") != nullptr);
  CATCH_CHECK(file.find("head.weight") != nullptr);
  for (const auto& [name, tensor] : file.tensors) CATCH_CHECK(name.find("lora") == std::string::npos);
  auto plain = peft::test::make_backbone("vit", {{"variant", std::string("vit_pico_patch4_32")},
                                                 {"img_size", std::int64_t{8}},
                                                 {"num_classes", std::int64_t{3}}});
  plain->load_checkpoint(file);
  plain->eval();

  peft::PreparedRun adapted = peft::load_run(peft::test::builtin_registry(), run, true);
  adapted.model.train(false);
  data::Loader loader(adapted.data->data.eval, adapted.data->eval_loader);
  loader.start_epoch(0);
  const auto batch = loader.next();
  CATCH_REQUIRE(batch.has_value());
  at::NoGradGuard no_grad;
  const at::Tensor expected = adapted.model.logits(peft::test::image_batch(batch->at(peft::keys::images)));
  CATCH_CHECK(peft::test::relative_error(plain->logits(peft::test::image_batch(batch->at(peft::keys::images))),
                                         expected) < 1e-5);
  // And the adapters did change the backbone: the merged weights differ from the pretrained ones.
  CATCH_CHECK_FALSE(at::equal(file.at("blocks.0.attn.qkv.weight"),
                              adapted.model.backbone->named_parameters()["blocks.0.attn.qkv.weight"]));
}

CATCH_TEST_CASE("evaluation runs in batches of the training micro-batch unless [train] eval_batch_size says") {
  TempFolder folder;
  // Batches of 8 in 3 micro-batches: evaluation in batches of 3 (8 / 3 rounded up), or of eval_batch_size.
  const fs::path recipe = setup(folder, "lora", "epochs = 1\ngradient_accumulation_steps = 3\n");
  const auto first_eval_batch = [&](const fs::path& run) {
    const peft::PreparedRun loaded = peft::load_run(peft::test::builtin_registry(), run, true);
    data::Loader loader(loaded.data->data.eval, loaded.data->eval_loader);
    loader.start_epoch(0);
    const auto batch = loader.next();
    return batch ? batch->size() : 0;
  };
  const fs::path micro = folder / "micro";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(micro)).exit_code == 0);
  CATCH_CHECK(first_eval_batch(micro) == 3);
  const fs::path five = folder / "five";
  CATCH_REQUIRE(
      run_peft("run " + quoted(recipe) + " --out " + quoted(five) + " --set train.eval_batch_size=5").exit_code == 0);
  CATCH_CHECK(first_eval_batch(five) == 5);
  // The same model scored in other batches: the same metrics, up to float summation order.
  const auto a = read_json(micro / "summary.json")["final"];
  const auto b = read_json(five / "summary.json")["final"];
  CATCH_CHECK(a["top1"] == b["top1"]);
  CATCH_CHECK(std::abs(a["loss"].get<double>() - b["loss"].get<double>()) < 1e-6);
}

CATCH_TEST_CASE("peft eval RECIPE --checkpoint scores a merged checkpoint as the run scored its adapted model") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "epochs = 2\n");
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  CATCH_REQUIRE(run_peft("merge " + quoted(run) + " -o " + quoted(folder / "merged.safetensors")).exit_code == 0);
  const auto of_run = nlohmann::json::parse(run_peft("eval --json " + quoted(run)).out);
  // --set as peft run takes it: evaluation in other batches scores the same; a bad value is the --set's error.
  const auto other_batches = run_peft("eval --json " + quoted(run) + " --set train.eval_batch_size=5");
  CATCH_REQUIRE(other_batches.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(other_batches.out)["top1"] == of_run["top1"]);
  peft::test::check_user_error(run_peft("eval " + quoted(run) + " --set train.eval_batch_size=-1"),
                               "--set train.eval_batch_size [train]: eval_batch_size = -1, expected an integer >= 0");
  const auto result =
      run_peft("eval --json " + quoted(recipe) + " --checkpoint " + quoted(folder / "merged.safetensors"));
  CATCH_REQUIRE(result.exit_code == 0);
  const auto of_merged = nlohmann::json::parse(result.out);
  CATCH_CHECK(of_merged["recipe"] == recipe.string());
  CATCH_CHECK(of_merged["images"] == of_run["images"]);
  CATCH_CHECK(of_merged["top1"] == of_run["top1"]);
  CATCH_CHECK(of_merged["loss"].get<double>() == Catch::Detail::Approx(of_run["loss"].get<double>()).epsilon(1e-5));
  // The recipe's own backbone (here a fresh ViT with a new head) says that its head is new.
  const auto plain = run_peft("eval " + quoted(recipe));
  CATCH_REQUIRE(plain.exit_code == 0);
  CATCH_CHECK_THAT(plain.err, Catch::Contains("note: "));
  // ... and in JSON, where the record says no checkpoint was given.
  const auto plain_json = run_peft("eval --json " + quoted(recipe));
  CATCH_REQUIRE(plain_json.exit_code == 0);
  const auto of_plain = nlohmann::json::parse(plain_json.out);
  CATCH_CHECK(of_plain["checkpoint"].is_null());
  CATCH_CHECK(of_plain["images"] == of_run["images"]);
  CATCH_CHECK(of_plain["top1"].is_number());
  // Misuse: --checkpoint with a run folder, --base with a recipe, a checkpoint that is not there.
  peft::test::check_user_error(
      run_peft("eval " + quoted(run) + " --checkpoint " + quoted(folder / "merged.safetensors")),
      "is not a recipe file");
  peft::test::check_user_error(run_peft("eval " + quoted(recipe) + " --base"), "--base is for a run folder");
  peft::test::check_user_error(run_peft("eval " + quoted(recipe) + " --checkpoint " + quoted(folder / "nothing")),
                               "--checkpoint " + (folder / "nothing").string() + " does not exist");
}

CATCH_TEST_CASE("a run interrupted after its last checkpoint but before its write-up finishes on --resume") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "epochs = 1\n");
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  const auto finished = read_json(run / "summary.json");
  fs::remove(run / "summary.json");
  fs::remove(run / "adapter_model.safetensors");
  CATCH_REQUIRE(run_peft("run --resume " + quoted(run)).exit_code == 0);
  CATCH_CHECK(read_json(run / "summary.json")["final"] == finished["final"]);
  CATCH_CHECK(fs::exists(run / "adapter_model.safetensors"));
}

namespace {

// |correlation| over space of every pair of maps [K, h, w] of one image: all 1 when every map is the same map.
at::Tensor pairwise_abs_correlation(const at::Tensor& maps) {
  at::Tensor flat = maps.flatten(1).to(at::kDouble);
  flat = flat - flat.mean(1, true);
  flat = flat / flat.norm(2, 1, true).clamp_min(1e-12);
  const std::int64_t k = maps.size(0);
  return flat.matmul(flat.t()).abs().masked_select(at::ones({k, k}, at::kBool).triu(1));
}

}  // namespace

CATCH_TEST_CASE("a GIFT run's cluster maps of one layer are not one map repeated") {
  // Once every map of a layer was the same channel-sum map (median |correlation| 0.99998 on the quickstart), and
  // the sheets showed one map K times. The shipped pretrained ViT-Mini (a random one has no structure to show) at
  // 32 pixels: an 8×8 patch grid to correlate over.
  TempFolder folder;
  const fs::path recipe = setup(folder, "gift", "epochs = 1\n", "[method.options]\ndim = 8\nclusters = 4\n");
  const fs::path run = folder / "run";
  const fs::path model = fs::path(PEFT_CONFIGS_DIR) / "../models/vit_mini_patch4_32.fashion5.safetensors";
  CATCH_REQUIRE(
      run_peft("run " + quoted(recipe) + " --set backbone.variant=vit_mini_patch4_32 --set backbone.img_size=32" +
               " --set backbone.checkpoint=" + quoted(model) + " --set backbone.head=new --out " + quoted(run))
          .exit_code == 0);
  CATCH_REQUIRE(run_peft("explain " + quoted(run) + " --per-class 2").exit_code == 0);
  const peft::TensorFile maps = peft::read_safetensors(run / "explain" / "maps.safetensors");
  // Per layer and row (W + ΔW, W alone): the median over the 6 images' pairs of maps.
  std::map<std::string, std::vector<at::Tensor>> by_row;
  for (const auto& [name, tensor] : maps.tensors) {
    CATCH_REQUIRE(tensor.sizes() == at::IntArrayRef({8, 8, 8}));
    by_row[name.substr(name.find('.') + 1)].push_back(pairwise_abs_correlation(tensor));
  }
  CATCH_CHECK(by_row.size() == 6 * 2);  // the 6 attn.proj layers, each with and without ΔW
  for (const auto& [row, correlations] : by_row) {
    CATCH_INFO(row);
    CATCH_CHECK(correlations.size() == 6);
    CATCH_CHECK(at::cat(correlations).median().item<double>() < 0.9);
  }
}

CATCH_TEST_CASE("peft explain draws a GIFT run's cluster maps as PNG sheets and writes the raw maps") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "gift", "epochs = 1\n", "[method.options]\ndim = 8\nclusters = 5\n");
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  const auto result = run_peft("explain " + quoted(run) + " --per-class 1 --frozen --top 3");
  CATCH_REQUIRE(result.exit_code == 0);
  CATCH_CHECK_THAT(result.out, Catch::Contains("3 sheets (2 layers, maps on a 2x2 patch grid)"));

  // 2 layers × (W + ΔW, W alone) rows; the image and the 3 most distinct maps; 8×8 images drawn at 96×96; a title
  // strip above (14 px), the colour bar below (26 px), the row labels on the left (the longest layer name + 8 px).
  const at::Tensor sheet = peft::data::decode_image(run / "explain" / "000_class0.png");
  const std::int64_t labels = peft::text_size("blocks.0.attn.proj")[0] + 8;
  CATCH_CHECK(sheet.sizes() == at::IntArrayRef({3, 14 + 4 * 96 + 5 * 2 + 26, labels + 4 * 96 + 5 * 2}));
  // Ink where the labels are: the title, each row's layer name, a map's index, and the colour bar's ends.
  const auto inked = [&](std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right) {
    return (sheet.slice(1, top, bottom).slice(2, left, right) < 64).any().item<bool>();
  };
  CATCH_CHECK(inked(0, 14, labels, sheet.size(2)));
  for (std::int64_t row = 0; row < 4; ++row) {
    CATCH_CHECK(inked(14 + 2 + row * 98, 14 + 2 + row * 98 + 96, 0, labels));
  }
  CATCH_CHECK_FALSE(inked(14, sheet.size(1) - 26, 0, 3));  // the margin left of the labels stays white
  const at::Tensor bar_left = sheet.slice(1, sheet.size(1) - 23, sheet.size(1) - 15).select(2, labels + 2 + 96 + 2);
  CATCH_CHECK(bar_left[2].min().item<std::uint8_t>() > 100);  // jet's 0 end is blue
  CATCH_CHECK(bar_left[0].max().item<std::uint8_t>() < 50);
  const peft::TensorFile maps = peft::read_safetensors(run / "explain" / "maps.safetensors");
  // One map per column of W Pᵀ: dim = 8 of them (the official visualiser's clusters), not the 5 PaCa clusters.
  CATCH_CHECK(maps.at("0.blocks.0.attn.proj").sizes() == at::IntArrayRef({8, 2, 2}));
  CATCH_CHECK(maps.at("2.blocks.1.attn.proj.frozen").sizes() == at::IntArrayRef({8, 2, 2}));

  // Bad requests name the flag: no images per class; a layer that exists but GIFT did not adapt.
  const auto none = run_peft("explain " + quoted(run) + " --per-class 0");
  CATCH_CHECK(none.exit_code == 1);
  CATCH_CHECK_THAT(none.err, Catch::Contains("--per-class 0: expected 1 or more images per class"));
  const auto unadapted = run_peft("explain " + quoted(run) + " --layers mlp.fc1");
  CATCH_CHECK(unadapted.exit_code == 1);
  CATCH_CHECK_THAT(unadapted.err, Catch::Contains("--layers mlp.fc1: the run's method did not adapt that layer") &&
                                      Catch::Contains("gift explains: blocks.0.attn.proj, blocks.1.attn.proj"));

  // LoRA has no clusters to draw.
  const fs::path lora = setup(folder, "lora", "epochs = 1\n");
  CATCH_REQUIRE(run_peft("run " + quoted(lora) + " --out " + quoted(folder / "lora")).exit_code == 0);
  const auto refused = run_peft("explain " + quoted(folder / "lora"));
  CATCH_CHECK(refused.exit_code == 1);
  CATCH_CHECK_THAT(refused.err, Catch::Contains("method 'lora' has no cluster maps to explain"));
}

CATCH_TEST_CASE("peft explain --epochs draws the same clusters from each kept epoch's adapter") {
  TempFolder folder;
  const fs::path recipe =
      setup(folder, "gift", "epochs = 2\n", "[method.options]\ndim = 8\nclusters = 5\n[output]\nkeep_epochs = true\n");
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  const auto result = run_peft("explain " + quoted(run) + " --epochs all --top 3");
  CATCH_REQUIRE(result.exit_code == 0);
  // 3 classes × 2 layers; rows are epochs 0, 1, 2.
  CATCH_CHECK_THAT(result.out, Catch::Contains("6 sheets (2 layers") && Catch::Contains("explain/epochs"));
  const at::Tensor sheet = peft::data::decode_image(run / "explain" / "epochs" / "000_class0.blocks.1.attn.proj.png");
  CATCH_CHECK(sheet.size(1) == 14 + 3 * 96 + 4 * 2 + 26);

  // Each row is its epoch's adapter: the last equals the finished run's maps, and training moved them.
  CATCH_REQUIRE(run_peft("explain " + quoted(run) + " --no-frozen").exit_code == 0);
  const peft::TensorFile finished = peft::read_safetensors(run / "explain" / "maps.safetensors");
  const peft::TensorFile by_epoch = peft::read_safetensors(run / "explain" / "epochs" / "maps.safetensors");
  for (const std::string layer : {"blocks.0.attn.proj", "blocks.1.attn.proj"}) {
    CATCH_INFO(layer);
    const at::Tensor last = by_epoch.at("1." + layer + ".epoch2");
    CATCH_CHECK(at::allclose(last, finished.at("1." + layer)));
    CATCH_CHECK_FALSE(at::allclose(by_epoch.at("1." + layer + ".epoch0"), last, 1e-3, 1e-5));
    CATCH_CHECK_FALSE(at::allclose(by_epoch.at("1." + layer + ".epoch1"), last, 1e-3, 1e-5));
  }
  const auto chosen = run_peft("explain " + quoted(run) + " --epochs 2,0 --layers blocks.0.attn.proj --overwrite -o " +
                               quoted(folder / "two"));
  CATCH_REQUIRE(chosen.exit_code == 0);
  CATCH_CHECK(peft::data::decode_image(folder / "two" / "002_class2.blocks.0.attn.proj.png").size(1) ==
              14 + 2 * 96 + 3 * 2 + 26);

  // An epoch the run did not keep, a word that is not an epoch, and a run that kept none are named.
  const auto missing = run_peft("explain " + quoted(run) + " --epochs 0,7");
  CATCH_CHECK(missing.exit_code == 1);
  CATCH_CHECK_THAT(missing.err, Catch::Contains("--epochs 0,7: the run kept no adapter of epoch 7") &&
                                    Catch::Contains("has epochs 0 to 2"));
  const auto word = run_peft("explain " + quoted(run) + " --epochs last");
  CATCH_CHECK(word.exit_code == 1);
  CATCH_CHECK_THAT(word.err, Catch::Contains("'last' is not an epoch (expected all, or numbers like 0,5,10)"));
  const fs::path plain = folder / "plain";
  CATCH_REQUIRE(
      run_peft("run " + quoted(recipe) + " --set output.keep_epochs=false --set train.epochs=1 --out " + quoted(plain))
          .exit_code == 0);
  CATCH_CHECK_FALSE(fs::exists(plain / "epochs"));
  const auto none = run_peft("explain " + quoted(plain) + " --epochs all");
  CATCH_CHECK(none.exit_code == 1);
  CATCH_CHECK_THAT(none.err, Catch::Contains("kept no per-epoch adapters (train it with [output] keep_epochs = true)"));
}

CATCH_TEST_CASE("peft eval over several runs switches adapters on one loaded backbone, with each run's own results") {
  TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  // LoRA and GIFT (adapters on sites), BitFit (the backbone's own biases, which must be put back after it).
  std::vector<fs::path> runs;
  for (const std::string method : {"lora", "bitfit", "gift"}) {
    const fs::path recipe = folder / (method + ".toml");
    peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", method, "epochs = 2\n",
                                                           method == "gift" ? "[method.options]\ndim = 8\n" : ""));
    runs.push_back(folder / method);
    CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(runs.back())).exit_code == 0);
  }
  std::string all;
  for (const auto& run : runs) all += " " + quoted(run);
  // Twice over, in another order: a run evaluated after the others gives what it gives alone.
  const auto together = run_peft("eval --json" + all + " " + quoted(runs[0]));
  CATCH_REQUIRE(together.exit_code == 0);
  const auto records = nlohmann::json::parse(together.out)["runs"];
  CATCH_REQUIRE(records.size() == 4);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const fs::path run = runs[i % runs.size()];
    CATCH_INFO(run.string());
    const auto alone = nlohmann::json::parse(run_peft("eval --json " + quoted(run)).out);
    CATCH_CHECK(records[i]["run"] == run.string());
    CATCH_CHECK(records[i]["top1"] == alone["top1"]);
    CATCH_CHECK(records[i]["loss"].get<double>() == Catch::Detail::Approx(alone["loss"].get<double>()).epsilon(1e-6));
    CATCH_CHECK(records[i]["switch_seconds"].get<double>() >= 0);
  }
  // Runs on another backbone are refused by name, before anything loads.
  const fs::path other = folder / "other.toml";
  peft::test::write_text(other, peft::test::tiny_recipe(folder / "task", "lora", "epochs = 1\n"));
  CATCH_REQUIRE(
      run_peft("run " + quoted(other) + " --set backbone.drop_path_rate=0.1 --out " + quoted(folder / "other"))
          .exit_code == 0);
  peft::test::check_user_error(run_peft("eval" + all + " " + quoted(folder / "other")),
                               "its recipe.toml differs in [backbone] drop_path_rate");
}

CATCH_TEST_CASE("mixed_precision = bf16 trains under bf16 autocast, and peft eval scores the run as it trained") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "lora", "epochs = 2\n", "targets = [\"attn.qkv\"]\n");
  const fs::path exact = folder / "fp32";
  const fs::path mixed = folder / "bf16";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(exact)).exit_code == 0);
  const auto trained =
      run_peft("run " + quoted(recipe) + " --out " + quoted(mixed) + " --set train.mixed_precision=\"bf16\"");
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  const double fp32_loss = read_json(exact / "summary.json")["final"]["loss"].get<double>();
  const double bf16_loss = read_json(mixed / "summary.json")["final"]["loss"].get<double>();
  // bf16 rounds every matmul's operands: the same run to a few per cent, not to the bit.
  CATCH_CHECK(bf16_loss != fp32_loss);
  CATCH_CHECK(std::abs(bf16_loss - fp32_loss) < 0.05 * fp32_loss);
  const auto evaluated = run_peft("eval " + quoted(mixed) + " --json");
  CATCH_REQUIRE(evaluated.exit_code == 0);
  CATCH_CHECK(std::abs(nlohmann::json::parse(evaluated.out)["loss"].get<double>() - bf16_loss) < 1e-6);
}
