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
  const ExplainReport report = explain_run(plugins.registry, options.run, options.explain);
  std::cout << report.sheets.size() << (report.sheets.size() == 1 ? " sheet (" : " sheets (") << report.layers.size()
            << (report.layers.size() == 1 ? " layer" : " layers") << ", maps on a " << report.grid[0] << "x"
            << report.grid[1] << " patch grid) in " << report.sheets.front().parent_path().string()
            << "\n  raw maps: " << report.maps.string() << '\n';
  return kSuccess;
}

}  // namespace peft::cli
