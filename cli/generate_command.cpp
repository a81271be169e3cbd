#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "generate.h"
#include "plugin_loader.h"

namespace peft::cli {

int run_generate_command(const GlobalOptions& global, const GenerateCommandOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  AdaptedModel model = generation_model(plugins.registry, options.model);
  GenerateOptions settings = options.generate;
  settings.use_cache = !options.no_cache;
  const Generation generation = generate_text(model, options.prompt, settings);
  if (options.json) {
    std::cout << nlohmann::json{{"prompt", options.prompt},
                                {"text", generation.text},
                                {"ids", generation.new_ids},
                                {"stopped_at_eos", generation.stopped_at_eos}}
                     .dump(2)
              << '\n';
    return kSuccess;
  }
  std::cout << options.prompt << generation.text << '\n';
  return kSuccess;
}

}  // namespace peft::cli
