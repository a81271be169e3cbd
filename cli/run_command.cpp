#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "command.h"
#include "distributed/launcher.h"
#include "distributed/world.h"
#include "exit_code.h"
#include "format.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "run.h"
#include "train/interrupt.h"
#include "train/metrics_log.h"

namespace peft::cli {

namespace {

// The same command line for each worker, without --nproc.
std::vector<std::string> worker_command(const GlobalOptions& global, const RunCommandOptions& options) {
  std::vector<std::string> argv{std::filesystem::read_symlink("/proc/self/exe").string()};
  for (auto& argument : child_arguments(global)) argv.push_back(std::move(argument));
  if (global.verbose) argv.push_back("--verbose");
  argv.push_back("run");
  if (!options.recipe.empty()) argv.push_back(options.recipe.string());
  if (!options.resume.empty()) argv.insert(argv.end(), {"--resume", options.resume.string()});
  for (const auto& assignment : options.overrides) argv.insert(argv.end(), {"--set", assignment});
  if (options.overwrite) argv.push_back("--overwrite");
  if (!options.out.empty()) argv.insert(argv.end(), {"--out", options.out.string()});
  if (options.stop_after > 0) argv.insert(argv.end(), {"--stop-after", std::to_string(options.stop_after)});
  if (!options.init_adapter.empty()) argv.insert(argv.end(), {"--init-adapter", options.init_adapter.string()});
  return argv;
}

int launch(const GlobalOptions& global, const RunCommandOptions& options, const RunRequest& request) {
  // The recipe is read here first, so that a mistake in it is one line, not one per rank.
  const std::filesystem::path folder = planned_run_folder(request);
  return launch_local_workers(options.nproc, worker_command(global, options),
                              "peft run --resume " + folder.string() + " continues from its last checkpoint");
}

// Why the best epoch on test is no model selection, and what to select on instead: the recipe's own validation
// split where its data has one.
std::string selection_note(const std::string& validation_split) {
  const std::string instead = validation_split.empty() ? "evaluate on a validation split ([data] eval_split)"
                                                       : "use [data] eval_split = \"" + validation_split + "\"";
  return " (on test, so not a model selection: " + instead + ", or peft sweep)";
}

}  // namespace

int run_run_command(const GlobalOptions& global, const RunCommandOptions& options) {
  if (options.recipe.empty() == options.resume.empty()) {
    throw Error("run", "give a recipe (peft run RECIPE) or a run folder to continue (peft run --resume RUN_DIR)");
  }
  if (!options.resume.empty() && (options.overwrite || !options.out.empty())) {
    throw Error("run", "--resume continues a run in place: --overwrite and --out do not apply");
  }
  if (options.stop_after < 0)
    throw Error("run", "--stop-after " + std::to_string(options.stop_after) + ": expected >= 1");
  const auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options.nproc > cores && !options.oversubscribe) {
    throw Error("run", "--nproc " + std::to_string(options.nproc) + " would start more processes than this machine's " +
                           std::to_string(cores) + " cores (hint: --oversubscribe to start them anyway)");
  }
  const World world = world_from_environment();
  if (options.nproc > 1 && world.distributed()) {
    throw Error("run", "--nproc " + std::to_string(options.nproc) + " inside a distributed launch (RANK " +
                           std::to_string(world.rank) + " of WORLD_SIZE " + std::to_string(world.size) +
                           " are set): start peft run without --nproc under torchrun or srun");
  }
  RunRequest request;
  request.recipe = options.recipe;
  request.overrides = options.overrides;
  if (!options.resume.empty()) request.resume = options.resume;
  request.overwrite = options.overwrite;
  if (!options.out.empty()) request.out = options.out;
  if (options.stop_after > 0) request.stop_after_epochs = options.stop_after;
  if (!options.init_adapter.empty()) request.init_adapter = options.init_adapter;

  // The launcher trains nothing: its workers find the plugins (and rank 0 warns about rejected ones, once).
  if (options.nproc > 1) return launch(global, options, request);
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  if (world.rank == 0) warn_rejections(plugins);

  // In a data-parallel run rank 0 speaks for all.
  static std::ostream nowhere(nullptr);
  Progress progress = world.rank == 0 ? progress_on_stderr() : Progress(nowhere, false);
  install_interrupt_handlers();
  const RunReport report = run_training(plugins.registry, request, progress);
  if (world.rank != 0) return kSuccess;
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
            << report.best_epoch << (report.eval_split == "test" ? selection_note(report.validation_split) : "") << '\n'
            << "  trainable " << with_thousands(report.trainable) << " parameters ("
            << percent(static_cast<double>(report.trainable) / static_cast<double>(report.backbone_parameters))
            << " of the backbone's " << with_thousands(report.backbone_parameters) << "; "
            << with_thousands(report.trainable_without_head) << " without the head)\n";
  return kSuccess;
}

}  // namespace peft::cli
