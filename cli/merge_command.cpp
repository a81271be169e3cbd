#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "plugin_loader.h"
#include "run.h"

namespace peft::cli {

int run_merge_command(const GlobalOptions& global, const MergeCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  merge_run(plugins.registry, options.run, options.output, options.overwrite, parse_byte_size(options.max_shard_size));
  std::cout << "merged " << options.run.string() << " into " << options.output.string() << '\n';
  return kSuccess;
}

}  // namespace peft::cli
