#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "plugin_loader.h"
#include "run.h"

namespace peft::cli {

int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  const EvalReport report = evaluate_run(plugins.registry, options.run, options.split);
  if (options.json) {
    const nlohmann::json out{{"run", options.run.string()},
                             {"split", report.split},
                             {"top1", report.evaluation.top1},
                             {"loss", report.evaluation.loss},
                             {"images", report.evaluation.images}};
    std::cout << out.dump(2) << '\n';
    return kSuccess;
  }
  char line[160];
  std::snprintf(line, sizeof line, "%s top-1 %.2f%%  loss %.4f  (%lld images)", report.split.c_str(),
                100.0 * report.evaluation.top1, report.evaluation.loss,
                static_cast<long long>(report.evaluation.images));
  std::cout << line << '\n';
  return kSuccess;
}

}  // namespace peft::cli
