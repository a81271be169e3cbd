#include "recipe.h"

#include <catch2/catch.hpp>

#include "peft/error.h"
#include "support/run_command.h"
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

CATCH_TEST_CASE("[train] and [output] are checked when the recipe loads, with defaults for what they leave out") {
  TempFolder folder;
  const auto recipe = load(folder, R"(schema_version = 1
seed = 3
device = "cpu"
threads = 2
[backbone]
plugin = "vit"
checkpoint = "w.safetensors"
head = "new"
[data]
format = "vtab1k"
root = "data/task"
[train]
epochs = 5
lr = 5e-4
betas = [0.9, 0.95]
[output]
dir = "out/run"
)");
  CATCH_CHECK(recipe.name == "recipe");  // the file's stem
  CATCH_CHECK(recipe.seed == 3);
  CATCH_CHECK(recipe.device == "cpu");
  CATCH_CHECK(recipe.threads == 2);
  CATCH_CHECK(recipe.backbone.head == "new");
  CATCH_CHECK(recipe.train.epochs == 5);
  CATCH_CHECK(recipe.train.lr == 5e-4);
  CATCH_CHECK(recipe.train.beta2 == 0.95);
  CATCH_CHECK(recipe.train.optimizer == "adamw");  // defaults
  CATCH_CHECK(recipe.train.batch_size == 32);
  CATCH_CHECK(recipe.train.evaluation_batch_size() == 32);  // eval_batch_size 0: the training micro-batch
  CATCH_CHECK(recipe.output.dir == "out/run");
  CATCH_CHECK(recipe.output.checkpoint);

  // The resolved recipe: defaults written out, input paths absolute, so a run folder's copy stands alone.
  CATCH_CHECK_THAT(recipe.resolved_toml, Catch::Contains("batch_size = 32") && Catch::Contains("optimizer = 'adamw'"));
  CATCH_CHECK_THAT(recipe.resolved_toml, Catch::Contains((folder / "data/task").string()));
  CATCH_CHECK_THAT(recipe.resolved_toml, Catch::Contains((folder / "w.safetensors").string()));
  const auto reread = [&] {
    peft::test::write_text(folder / "resolved.toml", recipe.resolved_toml);
    return peft::load_recipe(folder / "resolved.toml");
  }();
  CATCH_CHECK(reread.train.lr == 5e-4);
  CATCH_CHECK(reread.name == "recipe");
  // Floats in their shortest form, as written: momentum 0.9, not toml++'s "0.90000000000000002".
  CATCH_CHECK(peft::test::has_line(recipe.resolved_toml, "momentum = 0.9"));
  CATCH_CHECK(peft::test::has_line(recipe.resolved_toml, R"(betas = \[ 0.9, 0.95 \])"));
  CATCH_CHECK_THAT(recipe.resolved_toml, !Catch::Contains("0000000"));
  CATCH_CHECK(reread.train.momentum == 0.9);
  CATCH_CHECK(reread.train.beta2 == 0.95);
}

CATCH_TEST_CASE("out-of-range and unknown [train] values name the line, key and allowed values") {
  TempFolder folder;
  const std::string file = (folder / "recipe.toml").string();
  const std::string head = "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[train]\n";
  CATCH_CHECK(error_of(folder, head + "epochs = 0\n") ==
              "[recipe] " + file + ":5 [train]: epochs = 0, expected an integer >= 1");
  CATCH_CHECK(error_of(folder, head + "epochs = 1000000000\n") ==
              "[recipe] " + file + ":5 [train]: epochs = 1000000000, expected an integer from 1 to 100000");
  CATCH_CHECK(error_of(folder, head + "lr = -1.0\n") ==
              "[recipe] " + file + ":5 [train]: lr = -1, expected a number > 0");
  CATCH_CHECK_THAT(error_of(folder, head + "lr = 1e308\n"), Catch::Contains("lr = 1e+308, expected a number <= 1e+30"));
  CATCH_CHECK_THAT(error_of(folder, head + "eps = 1e300\n"), Catch::Contains("eps = 1e+300, expected a number <= 1"));
  CATCH_CHECK(error_of(folder, head + "schedule = \"linear\"\n") ==
              "[recipe] " + file + ":5 [train]: schedule = \"linear\", expected one of cosine, constant");
  CATCH_CHECK(error_of(folder, head + "epochs = 2\nwarmup_epochs = 3\n") ==
              "[recipe] " + file + ":6 [train]: warmup_epochs = 3, expected at most epochs (2)");
  CATCH_CHECK(error_of(folder, head + "batch_size = 8\ngradient_accumulation_steps = 9\n") ==
              "[recipe] " + file + ":6 [train]: gradient_accumulation_steps = 9, expected at most batch_size (8)");
  CATCH_CHECK(error_of(folder, head + "gradient_accumulation_steps = 0\n") ==
              "[recipe] " + file + ":5 [train]: gradient_accumulation_steps = 0, expected an integer >= 1");
  CATCH_CHECK(error_of(folder, head + "eval_batch_size = -1\n") ==
              "[recipe] " + file + ":5 [train]: eval_batch_size = -1, expected an integer >= 0");
  CATCH_CHECK_THAT(
      error_of(folder, head + "learning_rate = 0.1\n"),
      Catch::StartsWith("[options] " + file + ":5 [train]: unknown key 'learning_rate'") && Catch::Contains("lr"));
  CATCH_CHECK_THAT(error_of(folder, head + "lr = \"fast\"\n"),
                   Catch::Contains(file + ":5 [train]") && Catch::Contains("lr") && Catch::Contains("number"));
  CATCH_CHECK(error_of(folder, "schema_version = 1\nseed = -1\n[backbone]\nplugin = \"vit\"\n") ==
              "[recipe] " + file + ":2: seed must be an integer >= 0");
  CATCH_CHECK(error_of(folder, "schema_version = 1\ndevice = \"gpu\"\n[backbone]\nplugin = \"vit\"\n") ==
              "[recipe] " + file + ":2: device must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\"");
  CATCH_CHECK(error_of(folder, "schema_version = 1\n[backbone]\nplugin = \"vit\"\nhead = \"old\"\n") ==
              "[recipe] " + file +
                  ":4: [backbone] head must be \"keep\" (a checkpoint head that fits the data stays) or \"new\"");
  CATCH_CHECK_THAT(error_of(folder, "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[output]\ndirectory = \"x\"\n"),
                   Catch::Contains(file + ":5 [output]: unknown key 'directory'"));
}

CATCH_TEST_CASE("[sweep] grid values keep their shortest text, so trial names read as written") {
  TempFolder folder;
  const auto recipe = load(folder, R"(schema_version = 1
[backbone]
plugin = "vit"
[method]
plugin = "lora"
[sweep]
grid = { "train.lr" = [3e-3, 1e-2, 1e-5, 0.0], "method.options.r" = [4, 8], "method.options.mode" = ["a"] }
seeds = [1, 2]
)");
  CATCH_REQUIRE(recipe.sweep.has_value());
  const auto& grid = recipe.sweep->grid;
  CATCH_REQUIRE(grid.size() == 3);
  const auto values_of = [&](const std::string& key) {
    for (const auto& [name, values] : grid) {
      if (name == key) return values;
    }
    return std::vector<std::string>{};
  };
  CATCH_CHECK(values_of("train.lr") == std::vector<std::string>{"0.003", "0.01", "1e-05", "0.0"});
  CATCH_CHECK(values_of("method.options.r") == std::vector<std::string>{"4", "8"});
  CATCH_CHECK(values_of("method.options.mode") == std::vector<std::string>{"'a'"});
  CATCH_CHECK(recipe.sweep->seeds == std::vector<std::int64_t>{1, 2});
  CATCH_CHECK(recipe.sweep->final_seeds == recipe.sweep->seeds);  // the final runs default to the tuning seeds

  // Tuned on one seed, reported over three.
  const auto one_seed = load(folder, R"(schema_version = 1
[backbone]
plugin = "vit"
[sweep]
grid = { "train.lr" = [3e-3] }
seeds = [4]
final_seeds = [0, 1, 2]
)");
  CATCH_CHECK(one_seed.sweep->seeds == std::vector<std::int64_t>{4});
  CATCH_CHECK(one_seed.sweep->final_seeds == std::vector<std::int64_t>{0, 1, 2});
}
