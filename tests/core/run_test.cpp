// The run API in-process, with a method registered here: what `peft merge` says of a method that does not merge.
#include "run.h"

#include <catch2/catch.hpp>
#include <sstream>

#include "peft/error.h"
#include "peft/method.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

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
