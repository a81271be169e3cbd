#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/interrupt.h"
#include "train/metrics_log.h"

namespace peft::cli {

int run_run_command(const GlobalOptions& global, const RunCommandOptions& options) {
  if (options.recipe.empty() == options.resume.empty()) {
    throw Error("run", "give a recipe (peft run RECIPE) or a run folder to continue (peft run --resume RUN_DIR)");
  }
  if (!options.resume.empty() && (options.overwrite || !options.out.empty())) {
    throw Error("run", "--resume continues a run in place: --overwrite and --out do not apply");
  }
  if (options.stop_after < 0)
    throw Error("run", "--stop-after " + std::to_string(options.stop_after) + ": expected >= 1");
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);

  RunRequest request;
  request.recipe = options.recipe;
  request.overrides = options.overrides;
  if (!options.resume.empty()) request.resume = options.resume;
  request.overwrite = options.overwrite;
  if (!options.out.empty()) request.out = options.out;
  if (options.stop_after > 0) request.stop_after_epochs = options.stop_after;

  Progress progress = progress_on_stderr();
  install_interrupt_handlers();
  const RunReport report = run_training(plugins.registry, request, progress);
  if (report.stopped) {
    std::cout << "stopped after epoch " << report.epochs_done << "; continue with: peft run --resume "
              << report.folder.string() << '\n';
    return kSuccess;
  }
  const MetricSpec& primary = *std::find_if(report.metrics.begin(), report.metrics.end(),
                                            [&](const MetricSpec& spec) { return spec.name == report.primary_metric; });
  std::cout << "done: " << report.folder.string() << " (" << report.epochs_done << " epochs, "
            << format_duration(report.wall_seconds) << ", " << static_cast<long long>(report.examples_per_s) << " "
            << report.unit << "/s)\n"
            << "  " << report.eval_split << " " << metrics_text(report.metrics, report.last_eval.values) << " ("
            << report.last_eval.examples << " " << report.unit << "); best " << primary.shown() << " "
            << (report.best_value ? metric_text(primary, *report.best_value) : std::string("-")) << " at epoch "
            << report.best_epoch
            << (report.eval_split == "test" ? " (on test, so not a model selection: use val200, or peft sweep)" : "")
            << '\n'
            << "  trainable " << with_thousands(report.trainable) << " parameters ("
            << percent(static_cast<double>(report.trainable) / static_cast<double>(report.backbone_parameters))
            << " of the backbone's " << with_thousands(report.backbone_parameters) << "; "
            << with_thousands(report.trainable_without_head) << " without the head)\n";
  return kSuccess;
}

}  // namespace peft::cli
