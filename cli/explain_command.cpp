#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "explain.h"
#include "format.h"
#include "plugin_loader.h"

namespace peft::cli {

int run_explain_command(const GlobalOptions& global, const ExplainCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  ExplainOptions explain;
  explain.split = options.split;
  explain.per_class = options.per_class;
  explain.images = options.images;
  explain.layers = options.layers;
  explain.top = options.top;
  explain.normalize = options.normalize;
  explain.threshold = options.threshold;
  explain.frozen = options.frozen;
  explain.out = options.out;
  const ExplainReport report = explain_run(plugins.registry, options.run, explain);
  std::cout << report.sheets.size() << " sheets (" << report.layers.size() << " layers, maps on a " << report.grid[0]
            << "x" << report.grid[1] << " patch grid) in " << report.sheets.front().parent_path().string()
            << "\n  raw maps: " << report.maps.string() << '\n';
  return kSuccess;
}

}  // namespace peft::cli
