#include "sweep.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapter_file.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "run.h"

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

std::optional<double> finished_top1(const fs::path& run) {
  std::ifstream in(run / "summary.json");
  if (!in) return std::nullopt;
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  if (!summary.is_object()) return std::nullopt;
  return summary["final"]["top1"].get<double>();
}

// Trains `overrides` into `folder` unless it finished already; continues it from its checkpoint when it stopped.
double run_or_resume(const Registry& registry, const fs::path& recipe, const std::vector<std::string>& overrides,
                     const fs::path& folder, Progress& progress, std::size_t& trained) {
  if (auto done = finished_top1(folder)) return *done;
  RunRequest run;
  if (fs::exists(folder / "checkpoint.safetensors")) {
    run.resume = folder;
  } else {
    run.recipe = recipe;
    run.overrides = overrides;
    run.out = folder;
    run.overwrite = true;
  }
  const RunReport report = run_training(registry, run, progress);
  ++trained;
  return report.last_eval.top1;
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

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", 100.0 * fraction);
  return text;
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
  fs::create_directories(report.folder);
  const std::vector<Trial> trials = sweep_trials(sweep);
  report.trials = trials.size();

  // Tuning: every trial on the tuning splits; the test split is not read here.
  std::map<std::vector<std::string>, std::vector<double>> by_point;
  std::ostringstream csv;
  csv << "phase,trial,config,seed,split,top1\n";
  for (const auto& trial : trials) {
    const fs::path folder = report.folder / trial.folder;
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : trial_overrides(sweep, trial)) overrides.push_back(o);
    double top1 = 0.0;
    if (request.collect) {
      const auto done = finished_top1(folder);
      if (!done) throw Error("sweep", "--collect: " + folder.string() + " has not finished (no summary.json)");
      top1 = *done;
    } else {
      progress.message("sweep: " + trial.folder + " (" + join(trial.assignments) + ", seed " +
                       std::to_string(trial.seed) + ")");
      top1 = run_or_resume(registry, request.recipe, overrides, folder, progress, report.trials_run);
    }
    by_point[trial.assignments].push_back(top1);
    csv << "tune," << trial.folder << ",\"" << join(trial.assignments, " ") << "\"," << trial.seed << ","
        << sweep.tune_eval_split << "," << top1 << "\n";
  }

  // Each grid point's mean validation top-1 over its seeds, in grid order; the best is selected (the first wins ties).
  std::vector<std::pair<std::vector<std::string>, double>> points;
  for (const auto& trial : trials) {
    if (points.empty() || points.back().first != trial.assignments) {
      points.emplace_back(trial.assignments, mean(by_point.at(trial.assignments)));
    }
  }
  double best = -1.0;
  for (const auto& [assignments, top1] : points) {
    if (top1 > best) {
      best = top1;
      report.selected = assignments;
    }
  }
  report.selected_val_top1 = best;

  // The final runs: the selected configuration on the final splits, one per seed.
  std::size_t finals_run = 0;
  for (const auto seed : sweep.seeds) {
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : point_overrides(report.selected, sweep.final_train_split, sweep.final_eval_split, seed)) {
      overrides.push_back(o);
    }
    const fs::path folder = report.folder / ("final_seed" + std::to_string(seed));
    progress.message("sweep: final run, seed " + std::to_string(seed) + " (" + join(report.selected) + ")");
    const double top1 = run_or_resume(registry, request.recipe, overrides, folder, progress, finals_run);
    report.test_top1.push_back(top1);
    csv << "final," << folder.filename().string() << ",\"" << join(report.selected, " ") << "\"," << seed << ","
        << sweep.final_eval_split << "," << top1 << "\n";
  }
  fs::copy_file(report.folder / ("final_seed" + std::to_string(sweep.seeds.front())) / "recipe.toml",
                report.folder / "selected.toml", fs::copy_options::overwrite_existing);

  report.test_top1_mean = mean(report.test_top1);
  double variance = 0.0;
  for (const double v : report.test_top1) variance += (v - report.test_top1_mean) * (v - report.test_top1_mean);
  report.test_top1_std =
      report.test_top1.size() > 1 ? std::sqrt(variance / static_cast<double>(report.test_top1.size() - 1)) : 0.0;
  std::ostringstream md;
  md << "# Sweep of " << request.recipe.string() << "\n\nTuned on " << sweep.tune_train_split << " → "
     << sweep.tune_eval_split << "; the best mean " << sweep.tune_eval_split << " top-1 rerun on "
     << sweep.final_train_split << " → " << sweep.final_eval_split << ".\n\n| configuration | seeds | "
     << sweep.tune_eval_split << " top-1 (mean) |\n|---|---|---|\n";
  for (const auto& [assignments, top1] : points) {
    md << "| " << join(assignments, ", ") << (assignments == report.selected ? " **(selected)**" : "") << " | "
       << by_point.at(assignments).size() << " | " << percent(top1) << " |\n";
  }
  md << "\n**" << sweep.final_eval_split << " top-1: " << percent(report.test_top1_mean) << " ± "
     << percent(report.test_top1_std) << " %** over " << report.test_top1.size() << " seed(s) ("
     << join(report.selected, ", ") << ").\n";
  write_text_atomically(report.folder / "results.md", md.str());
  write_text_atomically(report.folder / "results.csv", csv.str());
  return report;
}

std::string slurm_script(const SweepRequest& request, const fs::path& peft_executable) {
  const Recipe recipe = load_recipe(request.recipe, request.overrides);
  if (!recipe.sweep) throw Error("sweep", request.recipe.string() + " has no [sweep] table");
  const std::vector<Trial> trials = sweep_trials(*recipe.sweep);
  const fs::path folder = fs::absolute(sweep_folder(request, recipe));
  std::ostringstream script;
  script << "#!/bin/bash\n# peft sweep: one SLURM array task per trial (" << trials.size()
         << " trials). After all finish:\n#   peft sweep " << quote_for_shell(fs::absolute(request.recipe).string())
         << " --collect --out " << quote_for_shell(folder.string()) << "\n#SBATCH --job-name=peft-sweep-" << recipe.name
         << "\n#SBATCH --array=0-" << trials.size() - 1 << "\n#SBATCH --output=" << (folder / "slurm_%a.log").string()
         << "\nset -euo pipefail\ncase \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    std::vector<std::string> overrides = request.overrides;
    for (const auto& o : trial_overrides(*recipe.sweep, trials[i])) overrides.push_back(o);
    script << "  " << i << ") exec " << quote_for_shell(fs::absolute(peft_executable).string()) << " run "
           << quote_for_shell(fs::absolute(request.recipe).string());
    for (const auto& o : overrides) script << " --set " << quote_for_shell(o);
    script << " --out " << quote_for_shell((folder / trials[i].folder).string()) << " --overwrite ;;\n";
  }
  script << "  *) echo \"no trial $SLURM_ARRAY_TASK_ID\" >&2; exit 1 ;;\nesac\n";
  return script.str();
}

}  // namespace peft
