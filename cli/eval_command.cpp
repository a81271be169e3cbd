#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "data/loader.h"
#include "exit_code.h"
#include "format.h"
#include "named_adapters.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/evaluate.h"
#include "train/metrics_log.h"

namespace peft::cli {
namespace {

// Several runs over one loaded backbone: a line (or JSON record) per run, with what switching to it cost.
int eval_named_adapters(const Registry& registry, const EvalCommandOptions& options) {
  if (options.base || options.checkpoint) {
    throw Error("eval", "--base and --checkpoint take one run folder or recipe, not several");
  }
  std::vector<std::filesystem::path> runs{options.run};
  runs.insert(runs.end(), options.more_runs.begin(), options.more_runs.end());
  double load_seconds = 0;
  const auto results = evaluate_runs(registry, runs, options.split, load_seconds);
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& result : results) {
      nlohmann::json record{{"run", result.run.string()},
                            {"split", result.report.split},
                            {result.report.unit, result.report.evaluation.examples},
                            {"switch_seconds", result.switch_seconds}};
      put_metrics(record, result.report.evaluation.values);
      records.push_back(record);
    }
    std::cout << nlohmann::json{{"runs", records}, {"load_seconds", load_seconds}}.dump(2) << '\n';
    return kSuccess;
  }
  for (const auto& result : results) {
    std::cout << result.run.string() << "  " << result.report.split << " "
              << metrics_text(result.report.metrics, result.report.evaluation.values) << "  ("
              << result.report.evaluation.examples << " " << result.report.unit << "; adapter switched in "
              << fixed(result.switch_seconds, 3) << " s)\n";
  }
  std::cout << "backbone and data loaded once, in " << fixed(load_seconds, 3) << " s\n";
  return kSuccess;
}

// A weighted combination of runs' low-rank adapters over one backbone.
int eval_weighted_adapters(const Registry& registry, const EvalCommandOptions& options) {
  if (!options.run.empty() || options.base || options.checkpoint) {
    throw Error("eval", "--adapter RUN:WEIGHT replaces RUN_DIR, --base and --checkpoint");
  }
  std::vector<std::filesystem::path> runs;
  std::vector<double> weights;
  parse_weighted_adapters(options.adapters, runs, weights);
  std::vector<std::string> overrides;
  if (!options.split.empty()) overrides.push_back("data.eval_split=" + options.split);
  AdapterSwitch adapters(registry, runs, overrides, true);
  double switch_seconds = 0;
  AdaptedModel& model = adapters.combine(weights, switch_seconds);
  PreparedRun& base = adapters.base();
  const Task& task = *base.task.task;
  data::Loader loader(base.data->data.eval, base.data->eval_loader);
  const Evaluation evaluation = evaluate(model, task, loader, base.device);
  if (options.json) {
    nlohmann::json out{{"adapters", options.adapters},
                       {"split", base.data->data.eval_split},
                       {task.unit(), evaluation.examples},
                       {"combine_seconds", switch_seconds}};
    put_metrics(out, evaluation.values);
    std::cout << out.dump(2) << '\n';
    return kSuccess;
  }
  std::cout << base.data->data.eval_split << " " << metrics_text(task.metrics(), evaluation.values) << "  ("
            << evaluation.examples << " " << task.unit() << ")\n";
  return kSuccess;
}

}  // namespace

int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  if (!options.adapters.empty()) return eval_weighted_adapters(plugins.registry, options);
  if (options.run.empty()) throw Error("eval", "name a run folder or recipe (or --adapter RUN:WEIGHT ...)");
  if (!options.more_runs.empty()) return eval_named_adapters(plugins.registry, options);
  // A recipe (a file) evaluates its backbone, or --checkpoint, with no method; a run folder its trained model.
  std::error_code error;
  const bool recipe = std::filesystem::is_regular_file(options.run, error);
  if (!recipe && options.checkpoint) {
    throw Error("eval",
                "--checkpoint evaluates a checkpoint with a recipe's data and task (peft eval RECIPE "
                "--checkpoint FILE); " +
                    options.run.string() + " is not a recipe file");
  }
  if (recipe && options.base) {
    throw Error("eval", "--base is for a run folder; " + options.run.string() +
                            " is a recipe, which is evaluated as its backbone loads (no method) already");
  }
  std::vector<std::string> notices;
  const EvalReport report =
      recipe ? evaluate_checkpoint(plugins.registry, options.run, options.checkpoint, options.split, notices)
             : evaluate_run(plugins.registry, options.run, options.split, options.base);
  for (const auto& notice : notices) std::cerr << "note: " << notice << '\n';
  if (options.json) {
    nlohmann::json out{{recipe ? "recipe" : "run", options.run.string()},
                       {"base", options.base},
                       {"split", report.split},
                       {report.unit, report.evaluation.examples}};
    if (recipe) out["checkpoint"] = options.checkpoint ? options.checkpoint->string() : nullptr;
    put_metrics(out, report.evaluation.values);
    std::cout << out.dump(2) << '\n';
    return kSuccess;
  }
  std::cout << report.split << " " << metrics_text(report.metrics, report.evaluation.values) << "  ("
            << report.evaluation.examples << " " << report.unit << ")\n";
  return kSuccess;
}

}  // namespace peft::cli
