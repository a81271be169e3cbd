// What `peft run`, `eval` and `merge` say on bad input: one line naming the file, key or value, exit code 1.
#include <catch2/catch.hpp>
#include <fstream>

#include "peft/error.h"
#include "peft/safetensors.h"
#include "support/run_command.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::check_user_error;
using peft::test::quoted;
using peft::test::run_command;
using peft::test::run_peft;
using peft::test::TempFolder;

namespace {

fs::path setup(const TempFolder& folder, const std::string& train_extra = "") {
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", "lora", "epochs = 1\n" + train_extra));
  return recipe;
}

}  // namespace

CATCH_TEST_CASE("peft run refuses an existing run folder unless resuming or overwriting") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const std::string out = " --out " + quoted(folder / "run");
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + out).exit_code == 0);
  const auto adapter_before = fs::last_write_time(folder / "run" / "adapter_model.safetensors");
  check_user_error(run_peft("run " + quoted(recipe) + out), (folder / "run").string() + ": already exists");
  CATCH_CHECK(fs::last_write_time(folder / "run" / "adapter_model.safetensors") == adapter_before);
  CATCH_CHECK(run_peft("run " + quoted(recipe) + out + " --overwrite").exit_code == 0);
  check_user_error(run_peft("run --resume " + quoted(folder / "run")), "has finished all 1 epochs");
  check_user_error(run_peft("run --resume " + quoted(folder / "run") + " --set train.lr=1"),
                   "--set cannot change a run being resumed");
}

CATCH_TEST_CASE("peft run names a run folder it cannot create") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  peft::test::write_text(folder / "a_file", "x");
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "a_file" / "run")),
                   (folder / "a_file" / "run").string() + ": cannot create it");
}

CATCH_TEST_CASE("a loss that becomes nan stops the run at its step and keeps the last good checkpoint") {
  TempFolder folder;
  // Epoch 1 trains at warmup_lr; from epoch 2 the rate is absurd and the weights blow up.
  const fs::path recipe = setup(folder, "");
  const std::string sets =
      " --set train.epochs=3 --set train.optimizer=sgd --set train.warmup_epochs=1"
      " --set train.warmup_lr=1e-3 --set train.schedule=constant --set train.lr=1e30";
  const auto result = run_peft("run " + quoted(recipe) + sets + " --out " + quoted(folder / "run"));
  check_user_error(result, "at epoch 2, step 2");
  CATCH_CHECK_THAT(result.err, Catch::Contains("The last good checkpoint (end of epoch 1) is " +
                                               (folder / "run" / "checkpoint.safetensors").string()));
  const auto checkpoint = peft::read_safetensors(folder / "run" / "checkpoint.safetensors");
  CATCH_CHECK(checkpoint.metadata.at("epoch") == "1");
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (tensor.is_floating_point()) CATCH_CHECK(tensor.isfinite().all().item<bool>());
  }
}

CATCH_TEST_CASE("peft run names num_classes that disagree with the data") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  check_user_error(run_peft("run " + quoted(recipe) + " --set backbone.num_classes=7 --out " + quoted(folder / "r")),
                   "--set backbone.num_classes [backbone]: num_classes = 7, but the data has 3 classes");
}

CATCH_TEST_CASE("a checkpoint of another architecture is refused, naming the file and the keys") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "run")).exit_code == 0);
  CATCH_REQUIRE(run_peft("merge " + quoted(folder / "run") + " -o " + quoted(folder / "pico.safetensors")).exit_code ==
                0);
  // A file in a folder that does not exist is named as missing, before any merging.
  check_user_error(run_peft("merge " + quoted(folder / "run") + " -o " + quoted(folder / "missing" / "x.safetensors")),
                   "the folder " + (folder / "missing").string() + " does not exist");
  const auto result =
      run_peft("run " + quoted(recipe) + " --set backbone.checkpoint=" + quoted(folder / "pico.safetensors") +
               " --set backbone.variant=vit_mini_patch4_32 --out " + quoted(folder / "other"));
  check_user_error(result, (folder / "pico.safetensors").string());
  CATCH_CHECK_THAT(result.err, Catch::Contains("blocks.0.attn.qkv.weight (file [192, 64], expected [384, 128])"));
}

CATCH_TEST_CASE("recipe errors in [train] name the file, line, key and what is allowed") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const std::string run = "run " + quoted(recipe) + " --out " + quoted(folder / "r");
  check_user_error(run_peft(run + " --set train.label_smoothing=1.5"),
                   "--set train.label_smoothing [train]: label_smoothing = 1.5, expected a number in [0, 1)");
  check_user_error(run_peft(run + " --set train.optimizer=adam"), "optimizer = \"adam\", expected one of adamw, sgd");
  // A run that cannot end is refused before it starts.
  check_user_error(run_peft(run + " --set train.epochs=1000000000"),
                   "--set train.epochs [train]: epochs = 1000000000, expected an integer from 1 to 100000");
  check_user_error(run_peft(run + " --set train.lr=fast"), "lr");
  check_user_error(run_peft(run + " --set train.learning_rate=0.1"), "learning_rate");
  check_user_error(run_peft(run + " --set method.options.rank=4"), "rank");
  // A bad plugin option given by --set is blamed on the --set, not on the recipe file.
  check_user_error(run_peft(run + " --set method.options.r=0"),
                   "[options] --set method.options.r [method.options]: r = 0, expected an integer >= 1");
  CATCH_CHECK_FALSE(fs::exists(folder / "r"));
}

CATCH_TEST_CASE("peft eval and peft merge name a folder that is not a finished run") {
  TempFolder folder;
  check_user_error(run_peft("eval " + quoted(folder.path())), "is not a run folder");
  const fs::path recipe = setup(folder);
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "run") +
                         " --set train.epochs=2"
                         " --stop-after 1")
                    .exit_code == 0);
  check_user_error(run_peft("merge " + quoted(folder / "run") + " -o " + quoted(folder / "m.safetensors")),
                   "peft run --resume");
}

CATCH_TEST_CASE("a method option too large to allocate is one line naming the method table, not a LibTorch trace") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const auto result =
      run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "run") + " --set method.options.r=100000000000");
  check_user_error(result, "[lora] " + recipe.string() + " [method");
  check_user_error(result,
                   "building the method asked for 25600000000000 bytes (23.3 TiB) at once, more than this "
                   "machine can allocate (hint: smaller sizes in " +
                       recipe.string() + " [method])");
  CATCH_CHECK_THAT(result.err, !Catch::Contains("frame #"));
  // The same for a backbone size (it went through the plugin's factory, which printed LibTorch's whole trace) ...
  const auto backbone = run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "run") +
                                 " --set backbone.embed_dim=1000000000000");
  check_user_error(backbone, "[vit] " + recipe.string() + " [backbone");
  check_user_error(backbone, "building the backbone asked for");
  CATCH_CHECK_THAT(backbone.err, !Catch::Contains("frame #"));
  // ... and for the activations of a step (under a memory limit, so that the allocation fails instead of the
  // kernel's OOM killer ending the process).
  const auto batch =
      peft::test::run_command("ulimit -v 6000000; PEFT_PLUGIN_PATH= " + quoted(PEFT_EXECUTABLE) + " run " +
                              quoted(recipe) + " --out " + quoted(folder / "run") + " --set backbone.img_size=2048");
  check_user_error(batch, "[train] training with [train] batch_size = ");
  check_user_error(batch, "more than this machine can allocate (hint: a smaller batch_size");
  CATCH_CHECK_THAT(batch.err, !Catch::Contains("frame #"));
}
