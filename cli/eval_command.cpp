#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/metrics_log.h"

namespace peft::cli {

int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  const EvalReport report = evaluate_run(plugins.registry, options.run, options.split, options.base);
  if (options.json) {
    nlohmann::json out{{"run", options.run.string()},
                       {"base", options.base},
                       {"split", report.split},
                       {report.unit, report.evaluation.examples}};
    put_metrics(out, report.evaluation.values);
    std::cout << out.dump(2) << '\n';
    return kSuccess;
  }
  std::cout << report.split << " " << metrics_text(report.metrics, report.evaluation.values) << "  ("
            << report.evaluation.examples << " " << report.unit << ")\n";
  return kSuccess;
}

}  // namespace peft::cli
