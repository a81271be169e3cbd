#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/metrics_log.h"

namespace peft::cli {

int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
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
