// Faults while training: Ctrl-C, kill -9 (at random points and half-way through a checkpoint write) and a full disk.
// Whatever happens, the run folder keeps a complete checkpoint, and `--resume` ends with exactly the numbers of an
// uninterrupted run.
#include <catch2/catch.hpp>
#include <random>

#include "peft/safetensors.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_command;
using peft::test::run_peft;
using peft::test::TempFolder;

namespace {

const std::string kPeft = "PEFT_PLUGIN_PATH= '" PEFT_EXECUTABLE "'";

// A tiny LoRA task with dropout (randomness a resumed run must replay), `epochs` epochs of 6 steps, and the
// uninterrupted run of it in `folder`/whole.
fs::path setup(const TempFolder& folder, int epochs) {
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(
      recipe, peft::test::tiny_recipe(folder / "task", "lora", "epochs = " + std::to_string(epochs) + "\nlr = 0.005\n",
                                      "[method.options]\nlora_dropout = 0.1\n"));
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(folder / "whole")).exit_code == 0);
  return recipe;
}

// The epoch a run folder's checkpoint holds; fails the test if the checkpoint does not load.
std::int64_t checkpoint_epoch(const fs::path& run) {
  const peft::TensorFile checkpoint = peft::read_safetensors(run / "checkpoint.safetensors");
  return std::stoll(checkpoint.metadata.at("epoch"));
}

}  // namespace

CATCH_TEST_CASE("Ctrl-C writes a checkpoint at the current step and exits 130; --resume ends as if uninterrupted") {
  TempFolder folder;
  const fs::path recipe = setup(folder, 40);
  const fs::path run = folder / "parts";
  // SIGINT as soon as the first step records appear (log_every = 2), well before the 240 steps end.
  const auto interrupted = run_command("(" + kPeft + " run " + quoted(recipe) + " --out " + quoted(run) +
                                       " & pid=$!; until grep -q global_step " + quoted(run / "metrics.jsonl") +
                                       " 2>/dev/null; do sleep 0.01; done; kill -INT $pid; wait $pid)");
  CATCH_CHECK(interrupted.exit_code == 130);
  CATCH_CHECK_THAT(interrupted.err, Catch::Contains("peft: [interrupted] stopped at epoch") &&
                                        Catch::Contains("checkpoint written; continue with: peft run --resume"));
  const peft::TensorFile checkpoint = peft::read_safetensors(run / "checkpoint.safetensors");
  CATCH_CHECK(std::stoll(checkpoint.metadata.at("global_step")) > 0);
  CATCH_CHECK_FALSE(fs::exists(run / "summary.json"));

  const auto resumed = run_peft("run --resume " + quoted(run));
  CATCH_INFO(resumed.err);
  CATCH_REQUIRE(resumed.exit_code == 0);
  CATCH_CHECK_THAT(resumed.err, Catch::Contains("resuming"));
  peft::test::check_same_run(folder / "whole", run);
}

CATCH_TEST_CASE("kill -9 half-way through a checkpoint write leaves the previous checkpoint, and --resume recovers") {
  TempFolder folder;
  const fs::path recipe = setup(folder, 3);
  const fs::path run = folder / "parts";
  const auto killed = run_command("PEFT_CRASH_DURING_WRITE=checkpoint.safetensors:2 " + kPeft + " run " +
                                  quoted(recipe) + " --out " + quoted(run));
  CATCH_CHECK((killed.exit_code == 137 || killed.exit_code == -1));  // killed by SIGKILL
  CATCH_CHECK(checkpoint_epoch(run) == 1);
  bool partial = false;
  for (const auto& entry : fs::directory_iterator(run)) {
    partial = partial || entry.path().filename().string().find("checkpoint.safetensors.tmp") == 0;
  }
  CATCH_CHECK(partial);  // the half-written second checkpoint

  CATCH_REQUIRE(run_peft("run --resume " + quoted(run)).exit_code == 0);
  for (const auto& entry : fs::directory_iterator(run)) {
    CATCH_CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  }
  peft::test::check_same_run(folder / "whole", run);
}

CATCH_TEST_CASE("kill -9 at random points never leaves an unloadable checkpoint; --resume ends as if uninterrupted") {
  TempFolder folder;
  const fs::path recipe = setup(folder, 12);
  const fs::path run = folder / "parts";
  std::mt19937 random(7);
  std::uniform_int_distribution<int> delay_ms(20, 400);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool started = fs::exists(run / "checkpoint.safetensors");
    const std::string command =
        started ? " run --resume " + quoted(run) : " run " + quoted(recipe) + " --overwrite --out " + quoted(run);
    const auto result = run_command("(" + kPeft + command + " & pid=$!; sleep " +
                                    std::to_string(delay_ms(random) / 1000.0) + "; kill -9 $pid; wait $pid)");
    if (result.exit_code == 0) break;  // it finished before the kill
    if (fs::exists(run / "checkpoint.safetensors")) CATCH_CHECK(checkpoint_epoch(run) >= 1);
  }
  if (!fs::exists(run / "summary.json")) {
    const std::string finish = fs::exists(run / "checkpoint.safetensors")
                                   ? "run --resume " + quoted(run)
                                   : "run " + quoted(recipe) + " --overwrite --out " + quoted(run);
    CATCH_REQUIRE(run_peft(finish).exit_code == 0);
  }
  peft::test::check_same_run(folder / "whole", run);
}

CATCH_TEST_CASE("a full disk while writing a checkpoint or an adapter is one clear error, the last checkpoint intact") {
  TempFolder folder;
  const fs::path recipe = setup(folder, 3);
  const fs::path run = folder / "parts";
  CATCH_REQUIRE(run_peft("run " + quoted(recipe) + " --out " + quoted(run) + " --stop-after 1").exit_code == 0);
  const auto checkpoint_bytes = fs::file_size(run / "checkpoint.safetensors");
  // A file size limit (ulimit -f, in 512-byte blocks in sh) below the checkpoint's size but above the other files'.
  const std::string limit = "ulimit -f " + std::to_string(checkpoint_bytes / 512 / 2) + "; ";
  const auto full = run_command("(" + limit + kPeft + " run --resume " + quoted(run) + ")");
  CATCH_CHECK(full.exit_code == 1);
  CATCH_CHECK_THAT(full.err, Catch::Contains("cannot write") && Catch::Contains("checkpoint.safetensors.tmp") &&
                                 Catch::Contains("File too large") && Catch::Contains("is unchanged"));
  CATCH_CHECK(checkpoint_epoch(run) == 1);
  CATCH_REQUIRE(run_peft("run --resume " + quoted(run)).exit_code == 0);
  peft::test::check_same_run(folder / "whole", run);

  // Without checkpoints, the adapter is the first large file: the same error names it.
  const auto adapter_bytes = fs::file_size(run / "adapter_model.safetensors");
  const auto no_room =
      run_command("(ulimit -f " + std::to_string(adapter_bytes / 512 / 2) + "; " + kPeft + " run " + quoted(recipe) +
                  " --set output.checkpoint=false --out " + quoted(folder / "x") + ")");
  CATCH_CHECK(no_room.exit_code == 1);
  CATCH_CHECK_THAT(no_room.err, Catch::Contains("adapter_model.safetensors.tmp") && Catch::Contains("is unchanged"));
}
