// Every recipe shipped in configs/ (and the bench's) is checked as `peft run` would before it reads any image: a bad
// value there would otherwise show only on a user's GPU hours later.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <optional>

#include "adapted_model.h"
#include "data/data_plan.h"
#include "model_builder.h"
#include "recipe.h"
#include "support/builtin_plugins.h"
#include "support/image_data.h"
#include "task_setup.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> shipped_recipes() {
  std::vector<fs::path> recipes;
  for (const char* root : {PEFT_CONFIGS_DIR, PEFT_BENCH_RECIPES_DIR}) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().extension() == ".toml") recipes.push_back(entry.path());
    }
  }
  std::sort(recipes.begin(), recipes.end());
  return recipes;
}

std::string text_of(const peft::PluginSection& section) {
  std::string text = section.plugin;
  for (const auto& [key, value] : section.options) text += " " + key + "=" + peft::to_string(value);
  return text;
}

// The model part of a recipe: the 19 VTAB-1k recipes share one, built once (a ViT-B/16 takes seconds).
std::string model_key(const peft::Recipe& recipe) {
  std::string key = text_of(recipe.backbone) + " | " + text_of(*recipe.method);
  for (const auto& target : recipe.method->targets) key += " target=" + target;
  for (const auto& pattern : recipe.method->exclude) key += " exclude=" + pattern;
  return key;
}

// What `peft run` builds before training, except the checkpoint (GPU recipes name weights this machine lacks) and
// the images: the backbone from its options, the method attached to the selected sites (its options, checks and
// selector), the [data] table's values with the backbone's preprocessing, the head for the data's class count.
// A text recipe: the shipped tiny LLaMA (or the config.json it was pretrained from) loaded, the method attached,
// the [data] table checked against the task's keys.
void check_text_recipe(const peft::Recipe& recipe) {
  const auto& registry = peft::test::builtin_registry();
  peft::BuiltBackbone built = peft::build_backbone(registry, recipe.backbone);
  const peft::ChosenTask task = peft::choose_task(registry, recipe, *built.backbone);
  (void)peft::check_data_table(task, recipe);
  if (task.task->head_policy() == peft::HeadPolicy::new_classifier) built.backbone->classifier()->reset_classifier(4);
  const peft::AdaptedModel model = peft::adapt(registry, built.backbone, *recipe.method);
  CATCH_CHECK(model.trainable_count() > 0);
}

void check_recipe(const peft::Recipe& recipe) {
  static std::map<std::string, peft::Preprocessing> built_models;
  CATCH_REQUIRE(recipe.method.has_value());
  CATCH_REQUIRE(recipe.data.has_value());
  if (recipe.backbone.plugin == "llama") return check_text_recipe(recipe);
  const std::string key = model_key(recipe);
  auto known = built_models.find(key);
  std::optional<peft::BuiltBackbone> built;
  if (known == built_models.end()) {
    const auto& registry = peft::test::builtin_registry();
    peft::BackboneSection backbone = recipe.backbone;
    backbone.checkpoint.reset();
    built = peft::build_backbone(registry, backbone);
    const peft::Preprocessing preprocessing = built->backbone->image_input()->preprocessing();
    const peft::AdaptedModel model = peft::adapt(registry, built->backbone, *recipe.method);
    CATCH_CHECK(model.trainable_count() > 0);
    known = built_models.emplace(key, preprocessing).first;
  }
  const peft::data::DataSettings data = peft::data::data_settings(
      peft::test::image_data_request(*recipe.data, recipe.file.parent_path(), &known->second, recipe.seed));
  CATCH_CHECK(data.train_images.transform.image_size == known->second.image_size);
  if (data.num_classes) CATCH_CHECK(*data.num_classes >= 1);
}

}  // namespace

CATCH_TEST_CASE("every shipped recipe builds as peft run builds it: plugin options, targets, data values") {
  const auto recipes = shipped_recipes();
  for (const auto& path : recipes) {
    CATCH_INFO(path.string());
    CATCH_CHECK_NOTHROW(check_recipe(peft::load_recipe(path)));
  }
  CATCH_CHECK(recipes.size() >= 38);  // quickstart, 2 pretrain, 8 mini-vtab, 19 VTAB-1k, 5 FGVC, 4 mini-lm, the bench's
}

CATCH_TEST_CASE("a shipped recipe with a bad value anywhere fails the recipe check") {
  const fs::path quickstart = fs::path(PEFT_CONFIGS_DIR) / "quickstart.toml";
  CATCH_CHECK_NOTHROW(check_recipe(peft::load_recipe(quickstart)));
  for (const std::string bad :
       {"method.options.clusters=0", "method.options.schema=\"pac\"", "method.targets=[\"atn\"]",
        "backbone.drop_path=1.5", "data.image_size=0", "data.eval_crop=\"random\"", "data.mean=[0.5, 0.5]"}) {
    CATCH_INFO(bad);
    CATCH_CHECK_THROWS_AS(check_recipe(peft::load_recipe(quickstart, {bad})), peft::Error);
  }
}
