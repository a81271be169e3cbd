#include <unistd.h>

#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "plugin_loader.h"
#include "sweep.h"
#include "train/interrupt.h"
#include "train/metrics_log.h"

namespace peft::cli {

int run_sweep_command(const GlobalOptions& global, const SweepCommandOptions& options) {
  SweepRequest request;
  request.recipe = options.recipe;
  request.overrides = options.overrides;
  if (!options.out.empty()) request.out = options.out;
  request.collect = options.collect;
  request.jobs = options.jobs;
  request.peft_executable = std::filesystem::read_symlink("/proc/self/exe");
  request.child_arguments = child_arguments(global);
  if (options.nproc > 1 && options.emit != "slurm") {
    throw Error("sweep", "--nproc " + std::to_string(options.nproc) +
                             " applies to --emit slurm (each trial a data-parallel SLURM job); trials on this "
                             "machine share its cores through --jobs");
  }
  if (options.emit == "slurm") {
    const std::string script = slurm_script(request, request.peft_executable, options.nproc);
    const std::filesystem::path folder = request.out ? *request.out : std::filesystem::path();
    const std::filesystem::path file = (folder.empty() ? std::filesystem::path(".") : folder) / "sweep.slurm";
    std::filesystem::create_directories(file.parent_path());
    write_text_atomically(file, script);
    std::cout << "wrote " << file.string() << " (submit with: sbatch " << file.string() << ")\n";
    return kSuccess;
  }
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  Progress progress = progress_on_stderr();
  install_interrupt_handlers();
  const SweepReport report = run_sweep(plugins.registry, request, progress);
  std::cout << "sweep: " << report.trials << " trials (" << report.trials_run << " trained now) in "
            << report.folder.string() << "\n  selected " << join(report.selected) << " (tuning "
            << report.metric.shown() << " " << metric_text(report.metric, report.selected_value) << ")\n  final "
            << report.metric.shown() << " " << metric_text(report.metric, report.final_mean) << " over "
            << report.final_values.size() << " seed(s); results.md, results.csv, selected.toml\n";
  return kSuccess;
}

}  // namespace peft::cli
