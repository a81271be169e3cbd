// A careless user's mistakes that once destroyed work or gave wrong numbers: each one reproduced, and what peft
// does now. Nothing a user owns is removed or written over; every refusal is one line naming the culprit, exit 1.
#include <catch2/catch.hpp>
#include <fstream>

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
using peft::test::write_text;

namespace {

const std::string kPeft = "PEFT_PLUGIN_PATH= '" PEFT_EXECUTABLE "'";

fs::path setup(const TempFolder& folder, const std::string& train_extra = "epochs = 1\n") {
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "recipe.toml";
  write_text(recipe, peft::test::tiny_recipe(folder / "task", "lora", train_extra));
  return recipe;
}

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

CATCH_TEST_CASE("1. --overwrite replaces only a run folder peft made, only peft's files, never the working directory") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  // A user's folder: refused, everything stays.
  write_text(folder / "victim/notes.txt", "mine");
  fs::create_directories(folder / "victim/sub");
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "victim") + " --overwrite"),
                   "is not a run folder peft made (it has no .peft-run)");
  CATCH_CHECK(contents(folder / "victim/notes.txt") == "mine");
  CATCH_CHECK(fs::is_directory(folder / "victim/sub"));

  // The working directory, which holds the recipe: refused, the recipe stays.
  const auto here =
      run_command("cd " + quoted(folder.path()) + " && " + kPeft + " run recipe.toml --out . --overwrite");
  check_user_error(here, "is not a run folder peft made");
  CATCH_CHECK(fs::exists(recipe));

  // A real run folder with the user's notes in it: peft's files replaced, the notes kept and named.
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  write_text(run / "notes.txt", "mine");
  write_text(run / "notes.tmp.42", "mine");  // shaped like peft's temporaries, but of no file of peft's
  fs::create_directories(run / "plots");
  const auto again = run_peft("run " + quoted(recipe) + " --out " + quoted(run) + " --overwrite");
  CATCH_REQUIRE(again.exit_code == 0);
  CATCH_CHECK_THAT(again.err, Catch::Contains("note: kept what is not peft's in " + run.string() +
                                              ": notes.tmp.42, notes.txt, plots/"));
  CATCH_CHECK(contents(run / "notes.txt") == "mine");
  CATCH_CHECK(contents(run / "notes.tmp.42") == "mine");
  CATCH_CHECK(fs::exists(run / "summary.json"));

  // Even a run folder is not cleared when it holds what the run reads (here the data).
  fs::rename(folder / "task", run / "task");
  write_text(recipe, peft::test::tiny_recipe(run / "task", "lora", "epochs = 1\n"));
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(run) + " --overwrite"),
                   "holds the data " + (run / "task").string() + "; --overwrite never clears it");
  CATCH_CHECK(fs::exists(run / "task/train800.txt"));
  CATCH_CHECK(fs::exists(run / "adapter_model.safetensors"));
}

CATCH_TEST_CASE("2. merge never writes over an input or an existing file; eval refuses a changed backbone") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const fs::path first = folder / "first";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(first)).exit_code == 0);
  const fs::path backbone = folder / "backbone.safetensors";
  CATCH_REQUIRE(run_peft("merge " + quoted(first) + " -o " + quoted(backbone)).exit_code == 0);
  // A run on that checkpoint.
  const fs::path run = folder / "run";
  CATCH_REQUIRE(
      run_peft("run " + quoted(recipe) + " --set backbone.checkpoint=" + quoted(backbone) + " --out " + quoted(run))
          .exit_code == 0);
  const std::string kept_backbone = contents(backbone);
  const std::string kept_adapter = contents(run / "adapter_model.safetensors");

  check_user_error(run_peft("merge " + quoted(run) + " -o " + quoted(backbone) + " --overwrite"),
                   "will not write " + backbone.string() + ": it is the backbone checkpoint");
  check_user_error(
      run_peft("merge " + quoted(run) + " -o " + quoted(run / "adapter_model.safetensors") + " --overwrite"),
      "it is the run's adapter_model.safetensors");
  CATCH_CHECK(contents(backbone) == kept_backbone);
  CATCH_CHECK(contents(run / "adapter_model.safetensors") == kept_adapter);

  const fs::path merged = folder / "merged.safetensors";
  write_text(merged, "a user's file");
  check_user_error(run_peft("merge " + quoted(run) + " -o " + quoted(merged)),
                   merged.string() + " exists (hint: --overwrite to replace it");
  CATCH_CHECK(contents(merged) == "a user's file");
  CATCH_CHECK(run_peft("merge " + quoted(run) + " -o " + quoted(merged) + " --overwrite").exit_code == 0);
  CATCH_CHECK(contents(merged) != "a user's file");

  // The backbone changes under the run (another merge copied over it): eval says so instead of other numbers.
  CATCH_REQUIRE(run_peft("eval " + quoted(run)).exit_code == 0);
  fs::copy_file(merged, backbone, fs::copy_options::overwrite_existing);
  check_user_error(run_peft("eval " + quoted(run)),
                   "the backbone checkpoint " + backbone.string() + " is not the one this run was trained on");
}

CATCH_TEST_CASE("3. a run folder is locked while a peft works in it; a kill -9 leaves no stale lock") {
  TempFolder folder;
  const fs::path recipe = setup(folder, "epochs = 200\n");
  const fs::path run = folder / "run";
  // The first run goes on in the background until it is killed.
  const auto started =
      run_command("(" + kPeft + " run " + quoted(recipe) + " --out " + quoted(run) + " > /dev/null 2>&1 & echo $! > " +
                  quoted(folder / "pid") + "; until grep -q " + "global_step " + quoted(run / "metrics.jsonl") +
                  " 2>/dev/null; do sleep 0.01; done)");
  CATCH_REQUIRE(started.exit_code == 0);
  std::string pid = contents(folder / "pid");
  pid.erase(pid.find_last_not_of('\n') + 1);
  const std::string in_use = "run folder " + run.string() + ": another peft process (PID " + pid + ") is working in it";
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(run) + " --overwrite"), in_use);
  check_user_error(run_peft("run --resume " + quoted(run)), in_use);
  CATCH_REQUIRE(
      run_command("kill -9 " + pid + "; while kill -0 " + pid + " 2>/dev/null; do sleep 0.01; done").exit_code == 0);
  // The kernel dropped the lock with the process: the run can be taken over.
  const auto after = run_peft("run " + quoted(recipe) + " --set train.epochs=1 --out " + quoted(run) + " --overwrite");
  CATCH_CHECK(after.exit_code == 0);
}

CATCH_TEST_CASE("4. a run that failed before its first checkpoint can be rerun or resumed") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const fs::path run = folder / "run";
  const fs::path image = folder / "task/images/train800/0.png";
  const std::string good = contents(image);
  write_text(image, "not a png");
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 1);
  CATCH_REQUIRE(fs::exists(run / "recipe.toml"));
  CATCH_REQUIRE_FALSE(fs::exists(run / "checkpoint.safetensors"));
  write_text(image, good);

  const auto rerun = run_peft("run " + quoted(recipe) + " --out " + quoted(run));
  CATCH_CHECK(rerun.exit_code == 0);
  CATCH_CHECK_THAT(rerun.err, Catch::Contains("held a run that stopped before its first checkpoint: starting over"));

  fs::remove(run / "checkpoint.safetensors");
  fs::remove(run / "adapter_model.safetensors");
  fs::remove(run / "summary.json");
  write_text(run / "notes.tmp.42", "mine");
  write_text(run / "metrics.jsonl.tmp.42", "half-written by a killed peft");
  const auto resumed = run_peft("run --resume " + quoted(run));
  CATCH_CHECK(resumed.exit_code == 0);
  CATCH_CHECK_THAT(resumed.err, Catch::Contains("has no checkpoint yet (the run stopped before its first one): "
                                                "starting it from the beginning with its recipe.toml"));
  CATCH_CHECK(fs::exists(run / "summary.json"));
  CATCH_CHECK(contents(run / "notes.tmp.42") == "mine");
  CATCH_CHECK_FALSE(fs::exists(run / "metrics.jsonl.tmp.42"));
}

CATCH_TEST_CASE("5 and 6. thread counts are bounded and no float option takes nan or inf") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const std::string run = "run " + quoted(recipe) + " --out " + quoted(folder / "r") + " --set ";
  check_user_error(run_peft(run + "threads=100000"), "threads = 100000 is more than");
  check_user_error(run_peft(run + "data.workers=100000"), "workers = 100000, expected 0 to 256");
  const std::pair<const char*, const char*> cases[] = {
      {"train.weight_decay=nan", "weight_decay = nan, expected a number in [0, "},
      {"train.min_lr=nan", "min_lr = nan, expected"},
      {"train.warmup_lr=nan", "warmup_lr = nan, expected"},
      {"train.momentum=nan", "momentum = nan, expected a number in [0, 1)"},
      {"train.grad_clip=inf", "grad_clip = inf, expected"},
      {"train.betas=[nan,0.9]", "betas = [nan, 0.9], expected two numbers in [0, 1)"},
      {"data.mean=[nan,0.5,0.5]", "mean = [nan, 0.5, 0.5], expected finite numbers"},
      {"data.std=[inf,0.5,0.5]", "std = [inf, 0.5, 0.5], expected finite numbers"},
      {"backbone.drop_rate=nan", "drop_rate = nan, expected a number in [0, 1)"},
  };
  for (const auto& [set, expected] : cases) {
    CATCH_INFO(set);
    check_user_error(run_peft(run + set), expected);
  }
  CATCH_CHECK_FALSE(fs::exists(folder / "r"));
}

CATCH_TEST_CASE("7. an output that cannot be written is a one-line error, not an internal one") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  write_text(folder / "a_file", "x");
  const fs::path blocked = folder / "a_file" / "out";
  check_user_error(run_peft("report " + quoted(run) + " -o " + quoted(blocked)), blocked.string());
  check_user_error(run_peft("data mini-vtab --out " + quoted(blocked)), blocked.string());
  // A folder that holds files needs --overwrite, which replaces only what is written.
  write_text(folder / "figures/mine.txt", "mine");
  check_user_error(run_peft("report " + quoted(run) + " -o " + quoted(folder / "figures")),
                   (folder / "figures").string() + " exists and is not empty (hint: --overwrite");
  CATCH_CHECK(run_peft("report " + quoted(run) + " -o " + quoted(folder / "figures") + " --overwrite").exit_code == 0);
  CATCH_CHECK(contents(folder / "figures/mine.txt") == "mine");
  CATCH_CHECK(fs::exists(folder / "figures/index.html"));
}

CATCH_TEST_CASE("8. split files cannot reach outside the data root; a run name is one path segment") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  const fs::path list = folder / "task/train800.txt";
  const std::string original = contents(list);
  fs::copy_file(folder / "task/images/train800/0.png", folder / "outside.png");
  const std::string run = "run " + quoted(recipe) + " --out " + quoted(folder / "r");
  write_text(list, original + "../outside.png 1\n");
  check_user_error(run_peft(run), "train800.txt:49: image " + (folder / "task/../outside.png").string() +
                                      " lies outside the data root");
  write_text(list, original + (folder / "outside.png").string() + " 1\n");
  check_user_error(run_peft(run), "lies outside the data root");
  fs::create_directory_symlink(folder.path(), folder / "task/images/up");
  write_text(list, original + "images/up/outside.png 1\n");
  check_user_error(run_peft(run), "lies outside the data root");
  CATCH_CHECK(run_peft(run + " --set data.allow_outside_root=true").exit_code == 0);

  write_text(list, original);
  check_user_error(run_peft("run " + quoted(recipe) + " --set name=../x"), "name = \"../x\" must be one path segment");
}

CATCH_TEST_CASE("10. errors name the real culprit") {
  TempFolder folder;
  const fs::path recipe = setup(folder);
  check_user_error(run_peft("run " + quoted(folder.path())),
                   folder.path().string() + " is a folder, expected a recipe file");

  write_text(folder / "task/dataset.toml", "num_classes = 0\n");
  check_user_error(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "r")),
                   (folder / "task/dataset.toml").string() + ": num_classes = 0, expected 1 or more");
  peft::test::write_tiny_task(folder / "task");

  write_text(folder / "sweep.toml", contents(recipe) + "\n[sweep]\ngrid = { \"train.lrr\" = [0.1] }\n");
  check_user_error(run_peft("sweep " + quoted(folder / "sweep.toml") + " --out " + quoted(folder / "sw")),
                   (folder / "sweep.toml").string() + " [sweep] grid train.lrr [train]: unknown key 'lrr'");
  CATCH_CHECK_FALSE(fs::exists(folder / "sw"));

  const fs::path run = folder / "run";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run)).exit_code == 0);
  fs::create_directories(folder / "a_folder");
  check_user_error(run_peft("merge " + quoted(run) + " -o " + quoted(folder / "a_folder")),
                   "cannot write " + (folder / "a_folder").string() + ": it is a folder (expected a file path)");

  check_user_error(run_peft("run " + quoted(recipe) + " --set train.epochs=99999999999999999999"),
                   "--set train.epochs: cannot read the value '99999999999999999999'");
}
