#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "lora_export.h"
#include "plugin_loader.h"

namespace peft::cli {

int run_export_command(const GlobalOptions& global, const ExportCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  const std::int64_t rank = export_lora(plugins.registry, options.run, options.output, options.overwrite);
  std::cout << "exported " << options.run.string() << " into " << options.output.string()
            << " as a Hugging Face peft LoRA adapter (r = " << rank << ", lora_alpha = " << rank << ")\n";
  return kSuccess;
}

}  // namespace peft::cli
