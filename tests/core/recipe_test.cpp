#include "recipe.h"

#include <catch2/catch.hpp>

#include "peft/error.h"
#include "support/temp_folder.h"

using peft::test::TempFolder;

namespace {

peft::Recipe load(const TempFolder& folder, const std::string& text) {
  peft::test::write_text(folder / "recipe.toml", text);
  return peft::load_recipe(folder / "recipe.toml");
}

std::string error_of(const TempFolder& folder, const std::string& text) {
  try {
    load(folder, text);
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a recipe gives the backbone and method tables with their plugin options") {
  TempFolder folder;
  const auto recipe = load(folder, R"(schema_version = 1
name = "demo"
seed = 42

[backbone]
plugin = "vit"
variant = "vit_base_patch16_224"
checkpoint = "weights/vit.safetensors"
num_classes = 100
drop_path = 0.1
mean = [0.5, 0.5, 0.5]

[method]
plugin = "gift"
targets = ["blocks.*.attn.proj"]
exclude = []
[method.options]
schema = "paca"
dim = 48

[train]
epochs = 100
)");
  CATCH_CHECK(recipe.name == "demo");
  CATCH_CHECK(recipe.backbone.plugin == "vit");
  CATCH_REQUIRE(recipe.backbone.checkpoint.has_value());
  CATCH_CHECK(*recipe.backbone.checkpoint == folder / "weights/vit.safetensors");  // relative to the recipe
  CATCH_CHECK(std::get<std::string>(recipe.backbone.options.at("variant")) == "vit_base_patch16_224");
  CATCH_CHECK(std::get<std::int64_t>(recipe.backbone.options.at("num_classes")) == 100);
  CATCH_CHECK(std::get<double>(recipe.backbone.options.at("drop_path")) == 0.1);
  CATCH_CHECK(std::get<std::vector<double>>(recipe.backbone.options.at("mean")) == std::vector<double>{0.5, 0.5, 0.5});
  CATCH_CHECK(recipe.backbone.options.count("plugin") == 0);
  CATCH_CHECK(recipe.backbone.option_contexts.at("num_classes") == (folder / "recipe.toml").string() + ":9 [backbone]");
  CATCH_REQUIRE(recipe.method.has_value());
  CATCH_CHECK(recipe.method->plugin == "gift");
  CATCH_CHECK(recipe.method->targets == std::vector<std::string>{"blocks.*.attn.proj"});
  CATCH_CHECK(recipe.method->exclude.empty());
  CATCH_CHECK(std::get<std::int64_t>(recipe.method->options.at("dim")) == 48);
}

CATCH_TEST_CASE("recipe errors name the file, the line and the key") {
  TempFolder folder;
  const std::string file = (folder / "recipe.toml").string();
  CATCH_CHECK(error_of(folder, "[backbone]\nplugin = \"vit\"\n") ==
              "[recipe] " + file + ": schema_version = 1 is missing");
  CATCH_CHECK(error_of(folder, "schema_version = 2\n[backbone]\nplugin = \"vit\"\n") ==
              "[recipe] " + file + ":1: schema_version must be 1 (the only version this peft reads)");
  CATCH_CHECK_THAT(error_of(folder, "schema_version = 1\nbackbon = 3\n"),
                   Catch::StartsWith("[recipe] " + file + ":2: unknown key 'backbon', expected one of: backbone,"));
  CATCH_CHECK(error_of(folder, "schema_version = 1\n") == "[recipe] " + file + ": the recipe has no [backbone] table");
  CATCH_CHECK(error_of(folder, "schema_version = 1\n[backbone]\nvariant = \"x\"\n") ==
              "[recipe] " + file + ":2: [backbone] needs plugin = \"...\"");
  CATCH_CHECK(error_of(folder, "schema_version = 1\n[backbone]\nplugin = 3\n") ==
              "[recipe] " + file + ":3: [backbone] plugin must be a string, got an integer");
  CATCH_CHECK(error_of(folder, "schema_version = 1\n[backbone]\nplugin = \"vit\"\nmean = [1, \"a\"]\n") ==
              "[recipe] " + file +
                  ":4: [backbone] mean: a list must hold only integers, only numbers or only "
                  "strings, found a string");
  CATCH_CHECK(error_of(folder,
                       "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[method]\nplugin = \"lora\"\n"
                       "target = [\"x\"]\n") ==
              "[recipe] " + file + ":6: [method] unknown key 'target', expected plugin, targets, exclude, options");
  CATCH_CHECK(error_of(folder,
                       "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[method]\nplugin = \"lora\"\n"
                       "targets = [1]\n") ==
              "[recipe] " + file + ":6: [method] targets must be a list of strings, got a list");
  CATCH_CHECK_THAT(error_of(folder, "schema_version = 1\n[backbone\n"),
                   Catch::StartsWith("[recipe] " + file + ":2: ") && Catch::Contains("expected ']'"));
  CATCH_CHECK(error_of(folder, "") == "[recipe] " + file + ": schema_version = 1 is missing");
  CATCH_CHECK_THROWS_WITH(peft::load_recipe(folder / "missing.toml"), Catch::Contains("missing.toml: no such file"));
}

CATCH_TEST_CASE("--set overrides any key with a TOML value, or a plain string, and errors name the --set") {
  TempFolder folder;
  peft::test::write_text(folder / "recipe.toml",
                         "schema_version = 1\n[backbone]\nplugin = \"vit\"\nvariant = \"a\"\n"
                         "[method]\nplugin = \"lora\"\ntargets = [\"attn.proj\"]\n");
  const auto recipe =
      peft::load_recipe(folder / "recipe.toml", {"backbone.variant=vit_small_patch16_224", "backbone.drop_path=0.1",
                                                 "method.targets=[\"attn.qkv\", \"mlp.fc1\"]", "method.options.r=16",
                                                 "backbone.num_classes=10", "name=with = sign"});
  CATCH_CHECK(std::get<std::string>(recipe.backbone.options.at("variant")) == "vit_small_patch16_224");
  CATCH_CHECK(std::get<double>(recipe.backbone.options.at("drop_path")) == 0.1);
  CATCH_CHECK(recipe.method->targets == std::vector<std::string>{"attn.qkv", "mlp.fc1"});
  CATCH_CHECK(std::get<std::int64_t>(recipe.method->options.at("r")) == 16);
  CATCH_CHECK(recipe.backbone.option_contexts.at("num_classes") == "--set backbone.num_classes [backbone]");
  CATCH_CHECK(recipe.name == "with = sign");

  CATCH_CHECK_THROWS_WITH(peft::load_recipe(folder / "recipe.toml", {"backbone.variant"}),
                          "[recipe] --set expects key=value (e.g. --set train.lr=5e-4), got 'backbone.variant'");
  CATCH_CHECK_THROWS_WITH(peft::load_recipe(folder / "recipe.toml", {"backbone.variant.x=1"}),
                          "[recipe] --set backbone.variant.x: 'variant' is not a table in the recipe");
  CATCH_CHECK_THROWS_WITH(peft::load_recipe(folder / "recipe.toml", {"schema_version=2"}),
                          "[recipe] --set schema_version: schema_version must be 1 (the only version this peft reads)");
  CATCH_CHECK_THROWS_WITH(peft::load_recipe(folder / "recipe.toml", {"method.target=[\"x\"]"}),
                          Catch::StartsWith("[recipe] --set method.target: [method] unknown key 'target'"));
}
