#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "hf_adapter/hf_adapter.h"
#include "named_adapters.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/metrics_log.h"

namespace peft::cli {
namespace {

// `--set` as peft run takes it, then --split (which wins over a --set data.eval_split).
std::vector<std::string> eval_overrides(const EvalCommandOptions& options) {
  std::vector<std::string> overrides = options.overrides;
  for (auto& split : eval_split_override(options.split)) overrides.push_back(std::move(split));
  return overrides;
}

// `report`'s split, example count and metrics added to `out` (after what the caller put first).
nlohmann::json with_report(nlohmann::json out, const EvalReport& report) {
  out["split"] = report.split;
  out[report.unit] = report.evaluation.examples;
  put_metrics(out, report.evaluation.values);
  return out;
}

// "test top-1 87.31%  loss 0.4123  (1000 images" — the caller closes the parenthesis.
std::string report_text(const EvalReport& report) {
  return report.split + " " + metrics_text(report.metrics, report.evaluation.values) + "  (" +
         std::to_string(report.evaluation.examples) + " " + report.unit;
}

// Several runs over one loaded backbone: a line (or JSON record) per run, with what switching to it cost.
int eval_named_adapters(const Registry& registry, const EvalCommandOptions& options) {
  if (options.base || options.checkpoint) {
    throw Error("eval", "--base and --checkpoint take one run folder or recipe, not several");
  }
  std::vector<std::filesystem::path> runs{options.run};
  runs.insert(runs.end(), options.more_runs.begin(), options.more_runs.end());
  double load_seconds = 0;
  const auto results = evaluate_runs(registry, runs, eval_overrides(options), load_seconds);
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& result : results) {
      records.push_back(
          with_report({{"run", result.run.string()}, {"switch_seconds", result.switch_seconds}}, result.report));
    }
    std::cout << nlohmann::json{{"runs", records}, {"load_seconds", load_seconds}}.dump(2) << '\n';
    return kSuccess;
  }
  for (const auto& result : results) {
    std::cout << result.run.string() << "  " << report_text(result.report) << "; adapter switched in "
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
  AdapterSwitch adapters(registry, runs, eval_overrides(options), true);
  double switch_seconds = 0;
  const EvalReport report = evaluate_on(adapters.base(), adapters.combine(weights, switch_seconds));
  if (options.json) {
    std::cout << with_report({{"adapters", options.adapters}, {"combine_seconds", switch_seconds}}, report).dump(2)
              << '\n';
    return kSuccess;
  }
  std::cout << report_text(report) << ")\n";
  return kSuccess;
}

// The recipe's backbone and data with an adapter folder Hugging Face peft saved.
int eval_hf_adapter(const Registry& registry, const EvalCommandOptions& options) {
  const std::filesystem::path& adapter = options.adapters.front();
  std::error_code error;
  if (options.run.empty() || !std::filesystem::is_regular_file(options.run, error)) {
    throw Error("eval", "--adapter " + adapter.string() +
                            " (a Hugging Face peft adapter) goes with a recipe, whose backbone and data it is "
                            "evaluated on: peft eval RECIPE --adapter DIR");
  }
  if (options.base || options.checkpoint || !options.more_runs.empty()) {
    throw Error("eval", "--adapter HF_ADAPTER_DIR takes one recipe, without --base, --checkpoint or more runs");
  }
  const EvalReport report = evaluate_hf_adapter(registry, options.run, adapter, eval_overrides(options));
  if (options.json) {
    std::cout << with_report({{"recipe", options.run.string()}, {"adapter", adapter.string()}}, report).dump(2) << '\n';
    return kSuccess;
  }
  std::cout << report_text(report) << ")\n";
  return kSuccess;
}

}  // namespace

int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  if (options.adapters.size() == 1 && is_hf_adapter_folder(options.adapters.front())) {
    return eval_hf_adapter(plugins.registry, options);
  }
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
      recipe ? evaluate_checkpoint(plugins.registry, options.run, options.checkpoint, eval_overrides(options), notices)
             : evaluate_run(plugins.registry, options.run, eval_overrides(options), options.base);
  for (const auto& notice : notices) std::cerr << "note: " << notice << '\n';
  if (options.json) {
    nlohmann::json out{{recipe ? "recipe" : "run", options.run.string()}, {"base", options.base}};
    if (recipe) {
      out["checkpoint"] = options.checkpoint ? nlohmann::json(options.checkpoint->string()) : nlohmann::json();
    }
    std::cout << with_report(std::move(out), report).dump(2) << '\n';
    return kSuccess;
  }
  std::cout << report_text(report) << ")\n";
  return kSuccess;
}

}  // namespace peft::cli
