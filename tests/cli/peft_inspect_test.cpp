#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_command.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::check_user_error;
using peft::test::quoted;
using peft::test::run_command;
using peft::test::run_peft;
using peft::test::TempFolder;

CATCH_TEST_CASE("peft inspect on a ViT-B/16 recipe targeting blocks.*.attn.proj lists 12 sites of [768, 768]") {
  TempFolder folder;
  peft::test::write_text(folder / "vitb.toml", R"(schema_version = 1
[backbone]
plugin = "vit"
variant = "vit_base_patch16_224"

[method]
plugin = "lora"
targets = ["blocks.*.attn.proj"]
)");
  const auto text = run_peft("inspect '" + (folder / "vitb.toml").string() + "'");
  CATCH_REQUIRE(text.exit_code == 0);
  CATCH_CHECK_THAT(text.out, Catch::Contains("backbone  vit, 86,567,656 parameters, 48 sites"));  // timm's count
  CATCH_CHECK_THAT(text.out, Catch::Contains("12 of 48 sites selected, 7,087,104 parameters"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  blocks\.11\.attn\.proj +\[768, 768\] +yes +590,592)"));

  const auto json = run_peft("inspect --json '" + (folder / "vitb.toml").string() + "'");
  CATCH_REQUIRE(json.exit_code == 0);
  const auto report = nlohmann::json::parse(json.out);
  CATCH_REQUIRE(report["sites"].size() == 12);
  for (const auto& site : report["sites"]) CATCH_CHECK(site["shape"] == nlohmann::json({768, 768}));
  CATCH_CHECK(report["sites"][0]["name"] == "blocks.0.attn.proj");
  CATCH_CHECK(report["backbone"]["parameters"] == 86567656);
  CATCH_CHECK(report["method"]["plugin"] == "lora");
  // LoRA r = 8 on 12 [768, 768] sites: 12 × 8 × (768 + 768), plus the 1000-class head.
  CATCH_CHECK(report["method"]["trainable"] == 12 * 8 * 1536 + 768 * 1000 + 1000);
  CATCH_CHECK(report["method"]["trainable_head"] == 768 * 1000 + 1000);
  CATCH_CHECK(report["method"]["mergeable"] == true);
  CATCH_CHECK_THAT(text.out, Catch::Contains("method    lora, 916,456 trainable parameters"));

  // docs/methods.md's counts on ViT-B/16 (without the 769,000-parameter head): VPT deep L·n·D, TOAST full 2·L·D² + D.
  const auto vpt = nlohmann::json::parse(
      run_peft("inspect --json '" + (folder / "vitb.toml").string() + "' --set method.plugin=vpt").out);
  CATCH_CHECK(vpt["method"]["trainable"].get<std::int64_t>() - 769000 == 12 * 5 * 768);
  CATCH_CHECK(vpt["method"]["mergeable"] == false);
  const auto toast = nlohmann::json::parse(
      run_peft("inspect --json '" + (folder / "vitb.toml").string() + "' --set method.plugin=toast").out);
  CATCH_CHECK(toast["method"]["trainable"].get<std::int64_t>() - 769000 == 2 * 12 * 768 * 768 + 768);
}

CATCH_TEST_CASE("peft inspect works from flags alone and loads the checkpoint it is given") {
  const std::string checkpoint = std::string(PEFT_REFERENCE_FIXTURE_DIR) + "/timm_vit_p4_s32.safetensors";
  const auto result = run_peft("inspect --json --backbone vit --variant vit_pico_patch4_32 --checkpoint '" +
                               checkpoint + "' --targets 'blocks.[1].mlp.*' --exclude mlp.fc2");
  CATCH_REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CATCH_REQUIRE(report["sites"].size() == 1);
  CATCH_CHECK(report["sites"][0]["name"] == "blocks.1.mlp.fc1");
  CATCH_CHECK(report["sites"][0]["shape"] == nlohmann::json({256, 64}));
  CATCH_CHECK(report["site_count"] == 8);
  CATCH_CHECK(report["backbone"]["parameters"] == 107781);  // the checkpoint's count: its 5-class head adopted
}

CATCH_TEST_CASE("peft inspect errors are one line with exit 1") {
  TempFolder folder;
  peft::test::write_text(folder / "typo.toml",
                         "schema_version = 1\n[backbone]\nplugin = \"vit\"\n"
                         "variant = \"vit_pico_patch4_32\"\ndepht = 3\n");
  const std::string missing_checkpoint =
      "--backbone vit --variant vit_pico_patch4_32 --checkpoint /no/such.safetensors";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"inspect '" + (folder / "typo.toml").string() + "'", "typo.toml:5 [backbone]: unknown key 'depht'"},
      {"inspect --backbone vit --variant vit_pico_patch4_32 --targets blocks.*.atn.proj",
       "target 'blocks.*.atn.proj' matches no site (closest: blocks.0.attn.proj"},
      {"inspect --backbone vitt", "plugin = 'vitt' is not a loaded backbone plugin, expected one of: llama, vit"},
      {"inspect " + missing_checkpoint, "checkpoint /no/such.safetensors does not exist"},
      {"inspect '" + (folder / "none.toml").string() + "'", "none.toml: no such file"},
      {"inspect", "give a recipe, or --backbone PLUGIN"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [arguments, message] = cases[i];
    // The section name must be the same on every run of the test case, so not the arguments (a temp path).
    CATCH_DYNAMIC_SECTION("case " << i << ": " << message) {
      const auto result = run_peft(arguments);
      CATCH_CHECK(result.exit_code == 1);
      CATCH_CHECK(result.out.empty());
      CATCH_CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
      CATCH_CHECK_THAT(result.err, Catch::StartsWith("peft: error: ") && Catch::Contains(message));
    }
  }
}

CATCH_TEST_CASE("peft inspect --set overrides recipe keys") {
  TempFolder folder;
  peft::test::write_text(folder / "r.toml",
                         "schema_version = 1\n[backbone]\nplugin = \"vit\"\n"
                         "variant = \"vit_base_patch16_224\"\n[method]\nplugin = \"lora\"\n"
                         "targets = [\"attn.proj\"]\n");
  const auto result =
      run_peft("inspect --json '" + (folder / "r.toml").string() +
               "' --set backbone.variant=vit_pico_patch4_32 --set 'method.targets=[\"blocks.1.attn.qkv\"]'");
  CATCH_REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CATCH_REQUIRE(report["sites"].size() == 1);
  CATCH_CHECK(report["sites"][0]["shape"] == nlohmann::json({192, 64}));
  const auto typo = run_peft("inspect '" + (folder / "r.toml").string() + "' --set backbone.depht=3");
  CATCH_CHECK(typo.exit_code == 1);
  CATCH_CHECK_THAT(typo.err, Catch::StartsWith("peft: error: [options] --set backbone.depht [backbone]: unknown key"));
  CATCH_CHECK(run_peft("inspect --backbone vit --set backbone.depth=3").exit_code == 1);
}

CATCH_TEST_CASE("peft inspect sizes the head for the recipe's data, and says when a method trains the head only") {
  TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  const std::string checkpoint = std::string(PEFT_REFERENCE_FIXTURE_DIR) + "/timm_vit_p4_s32.safetensors";
  peft::test::write_text(folder / "recipe.toml",
                         "schema_version = 1\n[backbone]\nplugin = \"vit\"\n"
                         "variant = \"vit_pico_patch4_32\"\ncheckpoint = '" +
                             checkpoint +
                             "'\n[method]\nplugin = \"linear_probe\"\n[data]\nformat = "
                             "\"vtab1k\"\nroot = \"task\"\n");
  const std::string recipe = quoted(folder / "recipe.toml");
  const auto probe = run_peft("inspect " + recipe);
  CATCH_REQUIRE(probe.exit_code == 0);
  const std::int64_t classes = nlohmann::json::parse(run_peft("inspect --json " + recipe).out)["num_classes"];
  CATCH_CHECK(classes != 5);  // the data's, not the checkpoint's 5-class head
  const std::int64_t head = 64 * classes + classes;
  CATCH_CHECK_THAT(probe.out, Catch::Contains("head for the data's " + std::to_string(classes) + " classes"));
  CATCH_CHECK_THAT(probe.out, Catch::Contains("linear_probe, " + std::to_string(head) + " trainable parameters"));
  CATCH_CHECK_THAT(probe.out, Catch::Contains("sites     none: linear_probe trains the head only (of 8 sites)"));

  // Flags without a method: the selection alone, no "method (not loaded ...)" line.
  const auto flags = run_peft("inspect --backbone vit --variant vit_pico_patch4_32 --targets attn.proj");
  CATCH_REQUIRE(flags.exit_code == 0);
  CATCH_CHECK_THAT(flags.out, !Catch::Contains("method") && Catch::Contains("2 of 8 sites selected"));

  // Data that cannot be read: the checkpoint's head, and a note saying why.
  const auto missing = run_peft("inspect " + recipe + " --set 'data.root=\"nowhere\"'");
  CATCH_REQUIRE(missing.exit_code == 0);
  CATCH_CHECK_THAT(missing.out, Catch::Contains("note: the head is sized as the backbone's (5 classes): the data "
                                                "could not be read:") &&
                                    Catch::Contains("nowhere is not a folder"));
}

CATCH_TEST_CASE("a timm hub folder is a checkpoint: config.json's architecture gives the variant") {
  TempFolder folder;
  const fs::path hub = folder / "vit_pico_patch4_32.fashion";
  fs::create_directories(hub);
  fs::copy_file(std::string(PEFT_REFERENCE_FIXTURE_DIR) + "/timm_vit_p4_s32.safetensors", hub / "model.safetensors");
  peft::test::write_text(hub / "config.json",
                         R"({"architecture": "vit_pico_patch4_32", "num_classes": 5, "pretrained_cfg": {"tag": "x"}})");
  const auto result = run_peft("inspect --json --backbone vit --checkpoint " + quoted(hub));
  CATCH_REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CATCH_CHECK(report["site_count"] == 8);
  CATCH_CHECK(report["backbone"]["parameters"] == 107781);  // the same as the file itself, 5-class head adopted

  // Its pretrained_cfg normalisation is what the data will use, and the user is told.
  peft::test::write_text(hub / "config.json", R"({"architecture": "vit_pico_patch4_32",
      "pretrained_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})");
  const auto normalised = run_peft("inspect --backbone vit --checkpoint " + quoted(hub));
  CATCH_CHECK(normalised.exit_code == 0);
  CATCH_CHECK_THAT(normalised.out, Catch::Contains("note: preprocessing from " + (hub / "config.json").string() +
                                                   ": mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]"));

  // The recipe's own variant wins; a wrong one is refused by the checkpoint's shapes as for a file.
  const auto other = run_peft("inspect --backbone vit --variant vit_mini_patch4_32 --checkpoint " + quoted(hub));
  CATCH_CHECK(other.exit_code == 1);
  CATCH_CHECK_THAT(other.err, Catch::Contains("model.safetensors does not fit the model"));

  fs::remove(hub / "config.json");
  const auto bare = run_peft("inspect --backbone vit --checkpoint " + quoted(hub));
  CATCH_CHECK(bare.exit_code == 1);
  CATCH_CHECK_THAT(bare.err, Catch::Contains("is a folder without config.json (expected a timm hub folder"));
}

CATCH_TEST_CASE("peft inspect refuses an unknown method plugin with the error peft run gives") {
  TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", "lorra", "epochs = 1\n"));
  const std::string expected =
      recipe.string() + " [method]: plugin = 'lorra' is not a loaded method plugin, expected one of: ";
  check_user_error(run_peft("inspect " + quoted(recipe)), expected);
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "run")), expected);
  CATCH_CHECK_FALSE(fs::exists(folder / "run"));
}
