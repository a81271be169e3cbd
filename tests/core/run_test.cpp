// The run API in-process, with a method registered here: what `peft merge` says of a method that does not merge.
#include "run.h"

#include <catch2/catch.hpp>
#include <sstream>

#include "peft/error.h"
#include "peft/method.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"
#include "support/token_backbone.h"

namespace {

// Trains only the head and keeps Method's default merge: "does not implement merge".
class HeadOnly final : public peft::Method {
 public:
  void attach(peft::Backbone&, const std::vector<peft::Site>&) override {}
  std::vector<peft::TrainableTensor> trainable_tensors() override { return {}; }
};

}  // namespace

CATCH_TEST_CASE("peft merge refuses a method that does not merge, with its reason") {
  peft::Registry registry = peft::test::builtin_registry();
  registry.add_method({"head_only", "test", [](const peft::Options&) { return std::make_shared<HeadOnly>(); }});
  peft::test::TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  peft::test::write_text(folder / "recipe.toml", peft::test::tiny_recipe(folder / "task", "head_only", "epochs = 1\n"));

  peft::RunRequest request;
  request.recipe = folder / "recipe.toml";
  request.out = folder / "run";
  std::ostringstream log;
  peft::Progress progress(log, false);
  const peft::RunReport report = peft::run_training(registry, request, progress);
  CATCH_CHECK(report.epochs_done == 1);
  CATCH_CHECK(report.trainable == 64 * 3 + 3);  // the head of the tiny ViT

  CATCH_CHECK_THROWS_WITH(peft::merge_run(registry, folder / "run", folder / "merged.safetensors"),
                          "[merge] method 'head_only' does not merge: this method does not implement merge");
  CATCH_CHECK_FALSE(std::filesystem::exists(folder / "merged.safetensors"));
}

CATCH_TEST_CASE("a recipe whose task does not fit its backbone is a one-line error naming both") {
  peft::Registry registry = peft::test::builtin_registry();
  registry.add_backbone({"token_test", "a backbone over token ids",
                         [](const peft::Options&) { return std::make_shared<peft::test::TokenBackbone>(); }});
  peft::test::TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  std::string recipe = peft::test::tiny_recipe(folder / "task", "lora");
  const auto vit = recipe.find("plugin = \"vit\"\nvariant = \"vit_pico_patch4_32\"\nimg_size = 8\n");
  CATCH_REQUIRE(vit != std::string::npos);
  recipe.replace(vit, std::string("plugin = \"vit\"\nvariant = \"vit_pico_patch4_32\"\nimg_size = 8\n").size(),
                 "plugin = \"token_test\"\n");
  peft::test::write_text(folder / "recipe.toml", recipe);
  peft::RunRequest request;
  request.recipe = folder / "recipe.toml";
  request.out = folder / "run";
  std::ostringstream log;
  peft::Progress progress(log, false);
  // No task named: the default, image classification, is for backbones that read images.
  CATCH_CHECK_THROWS_WITH(peft::run_training(registry, request, progress),
                          "[recipe] " + (folder / "recipe.toml").string() +
                              ": backbone 'token_test' reads input_ids, attention_mask, so the recipe must name its "
                              "task (task = \"...\", one of: image_classification, causal_lm, text_classification)");
  // Named, it is refused for what the backbone lacks.
  peft::test::write_text(folder / "recipe.toml", "task = \"image_classification\"\n" + recipe);
  CATCH_CHECK_THROWS_WITH(
      peft::run_training(registry, request, progress),
      "[recipe] " + (folder / "recipe.toml").string() +
          ":1 task: backbone 'token_test' does not fit task 'image_classification': it reads input_ids, "
          "attention_mask and has no classification head; image classification gives it images and fits a "
          "classifier head");
  peft::test::write_text(folder / "recipe.toml", "task = \"causal_lm\"\n" + recipe);
  CATCH_CHECK_THROWS_WITH(peft::run_training(registry, request, progress),
                          Catch::EndsWith(":1 task: backbone 'token_test' does not fit task 'causal_lm': it is not a "
                                          "causal language model (no LM head predicting the next token)"));
  peft::test::write_text(folder / "recipe.toml", "task = \"captioning\"\n" + recipe);
  CATCH_CHECK_THROWS_WITH(peft::run_training(registry, request, progress),
                          Catch::EndsWith(":1 task: task = 'captioning' is not a loaded task, expected one of: "
                                          "image_classification, causal_lm, text_classification"));
  CATCH_CHECK_FALSE(std::filesystem::exists(folder / "run"));
}
