#include "sweep.h"

#include <toml++/toml.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "model_builder.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "process_pool.h"
#include "run.h"
#include "run_files.h"
#include "task_setup.h"
#include "text_format.h"
#include "train/interrupt.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

fs::path sweep_folder(const SweepRequest& request, const Recipe& recipe) {
  return request.out ? *request.out : fs::path("runs/" + recipe.name + "-sweep");
}

std::string trial_name(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "trial_%03zu", index);
  return name;
}

// The finished run's final value of `metric`, from its summary.json; nothing while it has not finished.
std::optional<double> finished_value(const fs::path& run, const MetricSpec& metric) {
  std::ifstream in(run / kSummaryFile);
  if (!in) return std::nullopt;
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  if (!summary.is_object()) return std::nullopt;
  const auto& final_eval = summary["final"];
  if (!final_eval.is_object() || !final_eval.contains(metric.name) || !final_eval[metric.name].is_number()) {
    throw Error("sweep", (run / kSummaryFile).string() + " has no final " + metric.name);
  }
  return final_eval[metric.name].get<double>();
}

// A run the sweep needs: a trial or a final.
struct SweepRun {
  fs::path folder;
  std::vector<std::string> overrides;
  std::string label;  // for progress messages
};

// A value of a recipe as TOML text ("(unset)" when the recipe has no such key).
std::string value_text(const toml::table& recipe, const std::string& key) {
  const auto node = recipe.at_path(key);
  if (!node) return "(unset)";
  std::ostringstream text;
  node.visit([&](const auto& value) {
    if constexpr (toml::is_value<decltype(value)>) {
      text << value;
    } else {
      text << toml::toml_formatter(value);
    }
  });
  return text.str();
}

// Refuses to reuse `run`'s folder (its finished result, or its checkpoint) when it was trained with other settings
// than `run` asks for: a sweep rerun into the same folder after its grid or a --set changed would otherwise report
// the old trials under the new configurations. Each assigned key is compared as the run folder's recipe.toml holds
// it against the same recipe resolved with this run's assignments (so relative paths compare as the run made them).
void check_trained_as(const fs::path& recipe, const SweepRun& run) {
  const fs::path kept = run.folder / kRecipeFile;
  if (!fs::exists(kept)) return;
  toml::table have;
  try {
    have = toml::parse_file(kept.string());
  } catch (const toml::parse_error& e) {
    throw Error("sweep", kept.string() + " is not a recipe (" + std::string(e.description()) + ")");
  }
  const toml::table want = toml::parse(load_recipe(recipe, run.overrides).resolved_toml);
  for (const auto& assignment : run.overrides) {
    const std::string key = assignment.substr(0, assignment.find('='));
    if (key == "sweep" || key.rfind("sweep.", 0) == 0) continue;  // the sweep's own table trains nothing
    const std::string had = value_text(have, key);
    const std::string wanted = value_text(want, key);
    if (had != wanted) {
      throw Error("sweep", run.folder.string() + " was trained with " + key + " = " + had + ", not " + wanted +
                               " (the [sweep] grid or a --set changed since?): sweep into another --out, or remove " +
                               run.folder.string() + " to train it again");
    }
  }
}

// finished_value for a run that must have been trained as `run` asks (check_trained_as).
std::optional<double> reusable_value(const fs::path& recipe, const SweepRun& run, const MetricSpec& metric) {
  check_trained_as(recipe, run);
  return finished_value(run.folder, metric);
}

// Trains `run` in this process unless it finished already; continues it from its checkpoint when it stopped.
double run_or_resume(const Registry& registry, const fs::path& recipe, const SweepRun& run, const MetricSpec& metric,
                     Progress& progress, std::size_t& trained) {
  if (auto done = reusable_value(recipe, run, metric)) return *done;
  progress.message("sweep: " + run.label);
  RunRequest request;
  if (fs::exists(run.folder / kCheckpointFile)) {
    request.resume = run.folder;
  } else {
    request.recipe = recipe;
    request.overrides = run.overrides;
    request.out = run.folder;
    request.overwrite = true;
  }
  try {
    const RunReport report = run_training(registry, request, progress);
    ++trained;
    return report.last_eval.value(metric.name);
  } catch (const Interrupted&) {
    throw Interrupted(run.folder.filename().string() +
                      " wrote its checkpoint; rerun the same peft sweep command to continue");
  }
}

// The command that trains (or resumes) `run` as a child `peft run` with `threads` intra-op threads.
ChildCommand child_command(const SweepRequest& request, const SweepRun& run, std::int64_t threads,
                           const fs::path& log) {
  ChildCommand command{{request.peft_executable.string()}, log};
  for (const auto& argument : request.child_arguments) command.argv.push_back(argument);
  command.argv.push_back("run");
  if (fs::exists(run.folder / kCheckpointFile)) {
    command.argv.insert(command.argv.end(), {"--resume", run.folder.string()});
    return command;
  }
  command.argv.push_back(fs::absolute(request.recipe).string());
  for (const auto& o : run.overrides) command.argv.insert(command.argv.end(), {"--set", o});
  command.argv.insert(command.argv.end(),
                      {"--set", "threads=" + std::to_string(threads), "--out", run.folder.string(), "--overwrite"});
  return command;
}

// Trains the unfinished runs `request.jobs` at a time as child processes, each with its share of the threads.
void run_as_children(const SweepRequest& request, const Recipe& recipe, const std::vector<SweepRun>& runs,
                     const MetricSpec& metric, const fs::path& logs, Progress& progress, std::size_t& trained) {
  std::vector<const SweepRun*> pending;
  for (const auto& run : runs) {
    if (!reusable_value(request.recipe, run, metric)) pending.push_back(&run);
  }
  if (pending.empty()) return;
  const std::int64_t cores =
      recipe.threads > 0 ? recipe.threads : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  const std::int64_t threads = std::max<std::int64_t>(1, cores / static_cast<std::int64_t>(request.jobs));
  std::vector<ChildCommand> commands;
  for (const SweepRun* run : pending) {
    commands.push_back(child_command(request, *run, threads, logs / (run->folder.filename().string() + ".log")));
  }
  const InterruptScope interruptible;  // a signal stops launching and is passed on to the running trials
  const auto results = run_children(
      commands, request.jobs,
      [&](std::size_t i) {
        progress.message("sweep: started " + pending[i]->label + " (" + std::to_string(threads) + " thread(s))");
      },
      [&](std::size_t i, const ChildResult& result) {
        if (result.exit_code == 0) ++trained;
        progress.message("sweep: " + pending[i]->folder.filename().string() +
                         (result.exit_code == 0     ? " done"
                          : result.exit_code == 130 ? " stopped (its checkpoint is written)"
                                                    : " failed"));
      },
      interrupt_requested);
  if (interrupt_requested()) {
    throw Interrupted(
        "the sweep's running trials wrote their checkpoints; rerun the same peft sweep command to continue");
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].exit_code <= 0) continue;
    throw Error("sweep", pending[i]->folder.filename().string() + " failed (exit " +
                             std::to_string(results[i].exit_code) + "; log " + commands[i].log.string() +
                             "): " + last_line(commands[i].log));
  }
}

// Each run's value of `metric` on its eval split, training those that have not finished.
std::vector<double> run_all(const Registry& registry, const SweepRequest& request, const Recipe& recipe,
                            const std::vector<SweepRun>& runs, const MetricSpec& metric, const fs::path& folder,
                            Progress& progress, std::size_t& trained) {
  std::vector<double> values;
  if (request.jobs > 1) run_as_children(request, recipe, runs, metric, folder / "logs", progress, trained);
  for (const auto& run : runs) {
    values.push_back(run_or_resume(registry, request.recipe, run, metric, progress, trained));
  }
  return values;
}

std::string quote_for_shell(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (const double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

// A grid point's assignments, then the split pair and the seed it runs with.
std::vector<std::string> point_overrides(const std::vector<std::string>& assignments, const std::string& train_split,
                                         const std::string& eval_split, std::int64_t seed) {
  std::vector<std::string> overrides = assignments;
  overrides.push_back("data.train_split=\"" + train_split + "\"");
  overrides.push_back("data.eval_split=\"" + eval_split + "\"");
  overrides.push_back("seed=" + std::to_string(seed));
  return overrides;
}

// The metric that selects the configuration: [sweep] metric, else the task's primary one.
MetricSpec sweep_metric(const Registry& registry, const Recipe& recipe) {
  const ChosenTask chosen = named_task(registry, recipe);  // a backbone without images fails its first run
  const SweepSection& sweep = *recipe.sweep;
  return sweep.metric.empty() ? find_metric(*chosen.task, chosen.task->primary_metric(), "task " + chosen.name)
                              : find_metric(*chosen.task, sweep.metric, sweep.metric_context);
}

// Every grid point's recipe checked as far as it can be without the data and weights, before the sweep folder
// exists: a misspelled grid key or a bad value is named as the grid's, not as a --set the user never gave.
void check_grid(const Registry& registry, const SweepRequest& request, const std::vector<Trial>& trials) {
  const std::string source = request.recipe.string() + " [sweep] grid";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (i > 0 && trials[i].assignments == trials[i - 1].assignments) continue;  // another seed of the same point
    const Recipe trial = load_recipe(request.recipe, request.overrides, trials[i].assignments, source);
    resolve_options(plugin_entry(registry.backbones(), trial.backbone).options, trial.backbone.options,
                    trial.backbone.context, trial.backbone.option_contexts);
    if (trial.method) {
      resolve_options(plugin_entry(registry.methods(), *trial.method).options, trial.method->options,
                      trial.method->options_where(), trial.method->option_contexts);
    }
    if (trial.data) check_data_table(named_task(registry, trial), trial);
  }
}

// A value of `metric` as results.md shows it: a percentage with two decimals, without the sign ("84.60"), or a
// number with four.
std::string shown(const MetricSpec& metric, double value) {
  return metric.percent ? fixed(100.0 * value, 2) : fixed(value, 4);
}

}  // namespace

std::vector<Trial> sweep_trials(const SweepSection& sweep) {
  std::vector<std::vector<std::string>> points{{}};
  for (const auto& [key, values] : sweep.grid) {
    std::vector<std::vector<std::string>> next;
    for (const auto& point : points) {
      for (const auto& value : values) {
        auto extended = point;
        extended.push_back(key + "=" + value);
        next.push_back(std::move(extended));
      }
    }
    points = std::move(next);
  }
  std::vector<Trial> trials;
  for (const auto& point : points) {
    for (const auto seed : sweep.seeds) trials.push_back({trial_name(trials.size()), point, seed});
  }
  return trials;
}

std::vector<std::string> trial_overrides(const SweepSection& sweep, const Trial& trial) {
  return point_overrides(trial.assignments, sweep.tune_train_split, sweep.tune_eval_split, trial.seed);
}

SweepReport run_sweep(const Registry& registry, const SweepRequest& request, Progress& progress) {
  const Recipe recipe = load_recipe(request.recipe, request.overrides);
  if (!recipe.sweep) throw Error("sweep", request.recipe.string() + " has no [sweep] table");
  const SweepSection& sweep = *recipe.sweep;
  SweepReport report;
  report.folder = sweep_folder(request, recipe);
  const std::vector<Trial> trials = sweep_trials(sweep);
  report.metric = sweep_metric(registry, recipe);
  const MetricSpec& metric = report.metric;
  check_grid(registry, request, trials);
  fs::create_directories(report.folder);
  report.trials = trials.size();

  // Tuning: every trial on the tuning splits; the test split is not read here.
  std::map<std::vector<std::string>, std::vector<double>> by_point;
  std::ostringstream csv;
  csv << "phase,trial,config,seed,split," << metric.name << "\n";
  std::vector<SweepRun> tuning;
  for (const auto& trial : trials) {
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : trial_overrides(sweep, trial)) overrides.push_back(o);
    tuning.push_back({report.folder / trial.folder, overrides,
                      trial.folder + " (" + join(trial.assignments) + ", seed " + std::to_string(trial.seed) + ")"});
  }
  std::vector<double> tuned;
  if (request.collect) {
    for (const auto& run : tuning) {
      const auto done = reusable_value(request.recipe, run, metric);
      if (!done) throw Error("sweep", "--collect: " + run.folder.string() + " has not finished (no summary.json)");
      tuned.push_back(*done);
    }
  } else {
    tuned = run_all(registry, request, recipe, tuning, metric, report.folder, progress, report.trials_run);
  }
  for (std::size_t i = 0; i < trials.size(); ++i) {
    by_point[trials[i].assignments].push_back(tuned[i]);
    csv << "tune," << trials[i].folder << ",\"" << join(trials[i].assignments, " ") << "\"," << trials[i].seed << ","
        << sweep.tune_eval_split << "," << tuned[i] << "\n";
  }

  // Each grid point's mean validation value over its seeds, in grid order; the best in the metric's direction is
  // selected (the first wins ties).
  std::vector<std::pair<std::vector<std::string>, double>> points;
  for (const auto& trial : trials) {
    if (points.empty() || points.back().first != trial.assignments) {
      points.emplace_back(trial.assignments, mean(by_point.at(trial.assignments)));
    }
  }
  std::optional<double> best;
  for (const auto& [assignments, value] : points) {
    if (!best || metric.better(value, *best)) {
      best = value;
      report.selected = assignments;
    }
  }
  report.selected_value = *best;

  // The final runs: the selected configuration on the final splits, one per final seed.
  std::vector<SweepRun> finals;
  for (const auto seed : sweep.final_seeds) {
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : point_overrides(report.selected, sweep.final_train_split, sweep.final_eval_split, seed)) {
      overrides.push_back(o);
    }
    finals.push_back({report.folder / ("final_seed" + std::to_string(seed)), overrides,
                      "final run, seed " + std::to_string(seed) + " (" + join(report.selected) + ")"});
  }
  std::size_t finals_run = 0;
  report.final_values = run_all(registry, request, recipe, finals, metric, report.folder, progress, finals_run);
  for (std::size_t i = 0; i < finals.size(); ++i) {
    csv << "final," << finals[i].folder.filename().string() << ",\"" << join(report.selected, " ") << "\","
        << sweep.final_seeds[i] << "," << sweep.final_eval_split << "," << report.final_values[i] << "\n";
  }
  fs::copy_file(report.folder / ("final_seed" + std::to_string(sweep.final_seeds.front())) / kRecipeFile,
                report.folder / "selected.toml", fs::copy_options::overwrite_existing);

  const std::vector<double>& finals_values = report.final_values;
  report.final_mean = mean(finals_values);
  double variance = 0.0;
  for (const double v : finals_values) variance += (v - report.final_mean) * (v - report.final_mean);
  report.final_std =
      finals_values.size() > 1 ? std::sqrt(variance / static_cast<double>(finals_values.size() - 1)) : 0.0;
  const std::string name = metric.shown();
  const std::string unit = metric.percent ? " %" : "";
  std::ostringstream md;
  md << "# Sweep of " << request.recipe.string() << "\n\nTuned on " << sweep.tune_train_split << " → "
     << sweep.tune_eval_split << "; the best mean " << sweep.tune_eval_split << " " << name << " ("
     << (metric.higher_is_better ? "higher" : "lower") << " is better) rerun on " << sweep.final_train_split << " → "
     << sweep.final_eval_split << ".\n\n| configuration | seeds | " << sweep.tune_eval_split << " " << name
     << " (mean) |\n|---|---|---|\n";
  for (const auto& [assignments, value] : points) {
    md << "| " << join(assignments, ", ") << (assignments == report.selected ? " **(selected)**" : "") << " | "
       << by_point.at(assignments).size() << " | " << shown(metric, value) << " |\n";
  }
  // One seed has no spread to report: "± 0.00" would claim a measured one.
  const std::string spread = finals_values.size() > 1 ? " ± " + shown(metric, report.final_std) : "";
  md << "\n**" << sweep.final_eval_split << " " << name << ": " << shown(metric, report.final_mean) << spread << unit
     << "** over " << finals_values.size() << (finals_values.size() == 1 ? " seed" : " seeds") << " ("
     << join(report.selected, ", ") << ").\n";
  write_text_atomically(report.folder / "results.md", md.str());
  write_text_atomically(report.folder / "results.csv", csv.str());
  return report;
}

std::string slurm_script(const SweepRequest& request, const fs::path& peft_executable, int nproc) {
  const Recipe recipe = load_recipe(request.recipe, request.overrides);
  if (!recipe.sweep) throw Error("sweep", request.recipe.string() + " has no [sweep] table");
  const std::vector<Trial> trials = sweep_trials(*recipe.sweep);
  const fs::path folder = fs::absolute(sweep_folder(request, recipe));
  std::ostringstream script;
  script << "#!/bin/bash\n# peft sweep: one SLURM array task per trial (" << trials.size()
         << " trials). After all finish:\n#   peft sweep " << quote_for_shell(fs::absolute(request.recipe).string())
         << " --collect --out " << quote_for_shell(folder.string()) << "\n#SBATCH --job-name=peft-sweep-" << recipe.name
         << "\n#SBATCH --array=0-" << trials.size() - 1 << "\n#SBATCH --output=" << (folder / "slurm_%a.log").string()
         << "\n";
  if (nproc > 1) {
    // Each trial data-parallel over its tasks: srun starts them, SLURM_PROCID/SLURM_NTASKS say who is who, rank 0
    // (on the first node) hosts the rendezvous store on a port of this job's own.
    script << "#SBATCH --ntasks=" << nproc << "\n";
  }
  script << "set -euo pipefail\n";
  if (nproc > 1) {
    script << "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
           << "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n"
           << "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}\n";
  }
  script << "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : trial_overrides(*recipe.sweep, trials[i])) overrides.push_back(o);
    script << "  " << i << ") exec " << (nproc > 1 ? "srun " : "")
           << quote_for_shell(fs::absolute(peft_executable).string());
    for (const auto& argument : request.child_arguments) script << " " << quote_for_shell(argument);
    script << " run " << quote_for_shell(fs::absolute(request.recipe).string());
    for (const auto& o : overrides) script << " --set " << quote_for_shell(o);
    script << " --out " << quote_for_shell((folder / trials[i].folder).string()) << " --overwrite ;;\n";
  }
  script << "  *) echo \"no trial $SLURM_ARRAY_TASK_ID\" >&2; exit 1 ;;\nesac\n";
  return script.str();
}

}  // namespace peft
