#pragma once
// `peft sweep`: the VTAB-1k protocol in one command. Every configuration of the recipe's [sweep] grid trains on the
// tuning splits (train800 → val200) for each seed; the best mean validation value of the selection metric (the
// task's primary one unless [sweep] metric names another; top-1 for image classification) is rerun on the final
// splits (train800val200 → test). The test split is read by the final runs only.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "peft/registry.h"
#include "peft/task.h"
#include "recipe.h"
#include "train/progress.h"

namespace peft {

struct SweepRequest {
  std::filesystem::path recipe;
  std::vector<std::string> overrides;
  /// The sweep folder (default: runs/<name>-sweep).
  std::optional<std::filesystem::path> out;
  /// Train no trial here: read the trials' results (e.g. after a SLURM array), then select and run the final.
  bool collect = false;
  /// Trials trained at once. 1: one after another in this process. More: each trial is a child `peft run`
  /// (`peft_executable`, with `child_arguments` before `run`) with the recipe's threads split between them.
  std::size_t jobs = 1;
  std::filesystem::path peft_executable;
  std::vector<std::string> child_arguments;
};

/// One trial: a grid point and a seed.
struct Trial {
  std::string folder;  // "trial_003"
  /// `key=value` assignments of the grid point (without the splits and the seed).
  std::vector<std::string> assignments;
  std::int64_t seed = 0;
};

/// The trials of `sweep` in grid order (the last key varies fastest), each seed of a grid point in turn.
std::vector<Trial> sweep_trials(const SweepSection& sweep);

/// The `--set` overrides that make the recipe run `trial` on the tuning splits.
std::vector<std::string> trial_overrides(const SweepSection& sweep, const Trial& trial);

struct SweepReport {
  std::filesystem::path folder;
  std::size_t trials = 0;
  std::size_t trials_run = 0;  // trained by this call (the rest were done already)
  /// The metric that selected the configuration.
  MetricSpec metric;
  std::vector<std::string> selected;
  /// The selected configuration's mean tuning value.
  double selected_value = 0.0;
  /// The final runs' values, one per seed, their mean and sample standard deviation (0 for one seed).
  std::vector<double> final_values;
  double final_mean = 0.0;
  double final_std = 0.0;
};

/// Runs (or resumes) the sweep; writes `results.md`, `results.csv` and `selected.toml` into its folder.
SweepReport run_sweep(const Registry& registry, const SweepRequest& request, Progress& progress);

/// A SLURM job-array script running one trial per array task (`peft run RECIPE --set ... --out DIR/trial_i`);
/// afterwards `peft sweep RECIPE --collect` selects and runs the final. With `nproc` > 1 each array task is a
/// data-parallel run of that many SLURM tasks (`#SBATCH --ntasks`, `srun peft run`, MASTER_ADDR/MASTER_PORT exported).
std::string slurm_script(const SweepRequest& request, const std::filesystem::path& peft_executable, int nproc = 1);

}  // namespace peft
