// `peft sweep`: tune on train800 → val200, select by validation only, rerun the best on train800val200 → test.
#include <catch2/catch.hpp>
#include <fstream>

#include "support/run_command.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_command;
using peft::test::run_peft;
using peft::test::TempFolder;

namespace {

const std::string kSweep = R"(
[sweep]
grid = { "train.lr" = [0.01, 0.001], "train.weight_decay" = [0.0, 1e-4] }
)";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A tiny task in `folder`/task and a 2 × 2 LoRA sweep recipe over it; returns the recipe's path.
fs::path write_sweep(const TempFolder& folder, std::int64_t train_images = 48, std::int64_t test_images = 24,
                     int epochs = 1) {
  peft::test::write_tiny_task(folder / "task", train_images, test_images);
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(
      recipe, peft::test::tiny_recipe(folder / "task", "lora", "epochs = " + std::to_string(epochs) + "\n") + kSweep);
  return recipe;
}

}  // namespace

CATCH_TEST_CASE("a sweep tunes without reading the test split, resumes where it stopped, and reruns the best") {
  TempFolder folder;
  const fs::path recipe = write_sweep(folder);
  const std::string sweep = "sweep " + quoted(recipe) + " --out " + quoted(folder / "sweep");

  // Without test.txt every tuning trial still runs: only the final run needs the test split.
  fs::rename(folder / "task" / "test.txt", folder / "hidden.txt");
  const auto tuned = run_peft(sweep);
  CATCH_CHECK(tuned.exit_code == 1);
  CATCH_CHECK_THAT(tuned.err, Catch::Contains("test.txt"));
  for (const char* trial : {"trial_000", "trial_001", "trial_002", "trial_003"}) {
    CATCH_CHECK(fs::exists(folder / "sweep" / trial / "summary.json"));
    CATCH_CHECK_THAT(read(folder / "sweep" / trial / "recipe.toml"), Catch::Contains("eval_split = 'val200'"));
  }

  // Run again: the four trials are done and are not retrained; the final run happens.
  fs::rename(folder / "hidden.txt", folder / "task" / "test.txt");
  const auto finished = run_peft(sweep);
  CATCH_REQUIRE(finished.exit_code == 0);
  CATCH_CHECK_THAT(finished.out, Catch::Contains("4 trials (0 trained now)"));
  CATCH_CHECK_THAT(read(folder / "sweep" / "selected.toml"),
                   Catch::Contains("eval_split = 'test'") && Catch::Contains("train_split = 'train800val200'"));

  // The selected configuration is the one with the best validation top-1 in results.csv.
  std::ifstream csv(folder / "sweep" / "results.csv");
  std::string line;
  std::getline(csv, line);
  double best = -1;
  std::string best_config;
  while (std::getline(csv, line)) {
    if (line.rfind("tune,", 0) != 0) continue;
    const double top1 = std::stod(line.substr(line.rfind(',') + 1));
    const auto open = line.find('"');
    if (top1 > best) {
      best = top1;
      best_config = line.substr(open + 1, line.find('"', open + 1) - open - 1);
    }
  }
  CATCH_CHECK_THAT(read(folder / "sweep" / "results.md"),
                   Catch::Contains("(selected)") && Catch::Contains("test top-1"));
  // One final seed: no "± 0.00" spread that was never measured.
  CATCH_CHECK_THAT(read(folder / "sweep" / "results.md"), !Catch::Contains("±") && Catch::Contains("over 1 seed ("));
  const std::string results = read(folder / "sweep" / "results.csv");
  CATCH_CHECK_THAT(results, Catch::Contains("final,final_seed5,\"" + best_config + "\""));

  // Another grid into the same folder: the kept trials were trained with other settings, so they are not reported as
  // the new ones; nothing is trained or removed.
  const auto regridded =
      run_peft(sweep + " --set 'sweep.grid={\"train.lr\" = [0.5, 0.001], \"train.weight_decay\" = [0.0, 1e-4]}'");
  peft::test::check_user_error(regridded, (folder / "sweep" / "trial_000").string() +
                                              " was trained with train.lr = 0.01, not 0.5 (the [sweep] grid or a "
                                              "--set changed since?)");
  CATCH_CHECK(read(folder / "sweep" / "results.csv") == results);

  // final_seeds: the same tuning (seed 5, not retrained), its selection rerun once per final seed.
  const auto reported = run_peft(sweep + " --set 'sweep.final_seeds=[6, 7]'");
  CATCH_REQUIRE(reported.exit_code == 0);
  CATCH_CHECK_THAT(reported.out, Catch::Contains("4 trials (0 trained now)"));
  CATCH_CHECK_THAT(read(folder / "sweep" / "results.md"), Catch::Contains("over 2 seeds ("));
  CATCH_CHECK_THAT(read(folder / "sweep" / "results.csv"),
                   Catch::Contains("final,final_seed6,\"" + best_config + "\",6,test,") &&
                       Catch::Contains("final,final_seed7,\"" + best_config + "\",7,test,") &&
                       !Catch::Contains("final,final_seed5"));
}

CATCH_TEST_CASE("peft sweep --jobs 2 trains the trials as child runs, with the same results as one at a time") {
  TempFolder folder;
  const fs::path recipe = write_sweep(folder, 6, 3);
  const auto one = run_peft("sweep " + quoted(recipe) + " --out " + quoted(folder / "one"));
  CATCH_REQUIRE(one.exit_code == 0);

  // A final run that fails in a child names itself and its log, with the log's last line.
  fs::rename(folder / "task" / "test.txt", folder / "hidden.txt");
  const auto failed = run_peft("sweep " + quoted(recipe) + " --jobs 2 --out " + quoted(folder / "two"));
  CATCH_CHECK(failed.exit_code == 1);
  CATCH_CHECK_THAT(failed.err, Catch::Contains("final_seed5 failed") && Catch::Contains("final_seed5.log") &&
                                   Catch::Contains("test.txt"));
  CATCH_CHECK(fs::exists(folder / "two" / "logs" / "trial_003.log"));

  fs::rename(folder / "hidden.txt", folder / "task" / "test.txt");
  const auto two = run_peft("sweep " + quoted(recipe) + " --jobs 2 --out " + quoted(folder / "two"));
  CATCH_REQUIRE(two.exit_code == 0);
  CATCH_CHECK_THAT(two.out, Catch::Contains("4 trials (0 trained now)"));
  CATCH_CHECK(read(folder / "two" / "results.csv") == read(folder / "one" / "results.csv"));
}

CATCH_TEST_CASE("Ctrl-C stops a --jobs sweep's running trials at a checkpoint; rerunning it continues them") {
  TempFolder folder;
  const fs::path recipe = write_sweep(folder, 48, 24, 30);
  const fs::path sweep = folder / "sweep";
  const auto stopped =
      run_command("(PEFT_PLUGIN_PATH= '" PEFT_EXECUTABLE "' sweep " + quoted(recipe) + " --jobs 2 --out " +
                  quoted(sweep) + " & pid=$!; until grep -qs 'epoch 2/' " + quoted(sweep / "logs" / "trial_000.log") +
                  "; do sleep 0.01; done; kill -INT $pid; wait $pid)");
  CATCH_CHECK(stopped.exit_code == 130);
  CATCH_CHECK_THAT(stopped.err, Catch::Contains("stopped (its checkpoint is written)") &&
                                    Catch::Contains("rerun the same peft sweep command to continue"));
  CATCH_CHECK_FALSE(fs::exists(sweep / "trial_002"));  // nothing new started after the signal
  const auto continued = run_peft("sweep " + quoted(recipe) + " --jobs 2 --out " + quoted(sweep));
  CATCH_REQUIRE(continued.exit_code == 0);
  CATCH_CHECK_THAT(read(sweep / "logs" / "trial_000.log"), Catch::Contains("resuming"));
  CATCH_CHECK(fs::exists(sweep / "results.csv"));
}

CATCH_TEST_CASE("peft sweep --emit slurm writes a job array with one task per trial") {
  TempFolder folder;
  const fs::path recipe = write_sweep(folder, 6, 3);
  const auto emitted = run_peft("sweep " + quoted(recipe) + " --emit slurm --out " + quoted(folder / "sweep"));
  CATCH_REQUIRE(emitted.exit_code == 0);
  const fs::path script = folder / "sweep" / "sweep.slurm";
  CATCH_REQUIRE(fs::exists(script));
  CATCH_CHECK(run_command("bash -n " + quoted(script)).exit_code == 0);
  const std::string text = read(script);
  CATCH_CHECK_THAT(text, Catch::Contains("#SBATCH --array=0-3"));
  std::size_t tasks = 0;
  for (std::size_t at = text.find(") exec "); at != std::string::npos; at = text.find(") exec ", at + 1)) ++tasks;
  CATCH_CHECK(tasks == 4);
  CATCH_CHECK_THAT(text, Catch::Contains("--set 'train.lr=0.001'") && Catch::Contains("trial_003"));
  CATCH_CHECK_THAT(text, !Catch::Contains("srun") && !Catch::Contains("--ntasks"));

  // Each trial data-parallel over 4 SLURM tasks: srun starts them with the rendezvous address exported.
  const auto parallel = run_peft("sweep " + quoted(recipe) + " --emit slurm --nproc 4 --out " + quoted(folder / "dp"));
  CATCH_REQUIRE(parallel.exit_code == 0);
  const fs::path dp = folder / "dp" / "sweep.slurm";
  CATCH_CHECK(run_command("bash -n " + quoted(dp)).exit_code == 0);
  const std::string dp_text = read(dp);
  CATCH_CHECK_THAT(dp_text, Catch::Contains("#SBATCH --ntasks=4") && Catch::Contains("export MASTER_ADDR=") &&
                                Catch::Contains("export MASTER_PORT=") && Catch::Contains("0) exec srun "));
  peft::test::check_user_error(run_peft("sweep " + quoted(recipe) + " --nproc 4"), "--nproc 4 applies to --emit slurm");
}
