#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "generate.h"
#include "hf_adapter/hf_adapter.h"
#include "named_adapters.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "recipe.h"
#include "run_files.h"

namespace peft::cli {
namespace {

void print_generation(const GenerateCommandOptions& options, const Generation& generation) {
  if (options.json) {
    std::cout << nlohmann::json{{"prompt", options.prompt},
                                {"template", options.template_name.empty() ? nlohmann::json()
                                                                           : nlohmann::json(options.template_name)},
                                {"text", generation.text},
                                {"ids", generation.new_ids},
                                {"stopped_at_eos", generation.stopped_at_eos}}
                     .dump(2)
              << '\n';
    return;
  }
  std::cout << options.prompt << generation.text << '\n';
}

// The same prompt continued by each run's model, over one loaded backbone.
int generate_over_runs(const Registry& registry, const GenerateCommandOptions& options,
                       const GenerateOptions& settings) {
  std::vector<std::filesystem::path> runs{options.model};
  runs.insert(runs.end(), options.more_runs.begin(), options.more_runs.end());
  AdapterSwitch adapters(registry, runs, {}, false);
  nlohmann::json records = nlohmann::json::array();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    double switch_seconds = 0;
    const Generation generation = generate_text(adapters.activate(i, switch_seconds), options.prompt, settings);
    if (options.json) {
      records.push_back({{"run", runs[i].string()},
                         {"text", generation.text},
                         {"ids", generation.new_ids},
                         {"stopped_at_eos", generation.stopped_at_eos},
                         {"switch_seconds", switch_seconds}});
    } else {
      std::cout << runs[i].string() << ": " << options.prompt << generation.text << '\n';
    }
  }
  if (options.json) {
    std::cout << nlohmann::json{{"prompt", options.prompt},
                                {"runs", records},
                                {"load_seconds", adapters.load_seconds()}}
                     .dump(2)
              << '\n';
  }
  return kSuccess;
}

// The whole of `file` ("-": standard input), as bytes: a prompt keeps its newlines and trailing space.
std::string read_prompt(const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    throw Error("generate", "--prompt-file " + file +
                                (std::filesystem::exists(file, error) ? " is not a file" : " does not exist"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("generate", "--prompt-file " + file + " cannot be read");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The prompt inside the data template `run` was trained with (Alpaca's), as it saw its prompts; a model folder, or
// --raw, keeps the prompt as typed.
void apply_run_template(GenerateCommandOptions& options, const std::filesystem::path& run) {
  if (options.raw || !std::filesystem::exists(run / kRecipeFile)) return;
  options.prompt = prompt_as_trained(load_recipe(run / kRecipeFile), options.prompt, options.template_name);
}

}  // namespace

int run_generate_command(const GlobalOptions& global, const GenerateCommandOptions& given) {
  GenerateCommandOptions options = given;
  if (!options.prompt_file.empty()) options.prompt = read_prompt(options.prompt_file);
  if (given.prompt_file.empty() && !given.prompt_given) {
    throw Error("generate", "give the text to continue: --prompt TEXT or --prompt-file FILE");
  }
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  GenerateOptions settings = options.generate;
  settings.use_cache = !options.no_cache;
  if (options.adapters.size() == 1 && is_hf_adapter_folder(options.adapters.front())) {
    if (!options.more_runs.empty()) throw Error("generate", "--adapter HF_ADAPTER_DIR takes one model folder");
    std::optional<std::filesystem::path> folder;
    if (!options.model.empty()) folder = options.model;
    AdaptedModel model = hf_adapter_generation_model(plugins.registry, folder, options.adapters.front());
    print_generation(options, generate_text(model, options.prompt, settings));
    return kSuccess;
  }
  if (!options.adapters.empty()) {
    if (!options.model.empty()) throw Error("generate", "--adapter RUN:WEIGHT replaces RUN_DIR|MODEL_DIR");
    std::vector<std::filesystem::path> runs;
    std::vector<double> weights;
    parse_weighted_adapters(options.adapters, runs, weights);
    apply_run_template(options, runs.front());
    AdapterSwitch adapters(plugins.registry, runs, {}, false);
    double seconds = 0;
    const Generation generation = generate_text(adapters.combine(weights, seconds), options.prompt, settings);
    print_generation(options, generation);
    return kSuccess;
  }
  if (options.model.empty()) throw Error("generate", "name a run or model folder (or --adapter RUN:WEIGHT ...)");
  apply_run_template(options, options.model);
  if (!options.more_runs.empty()) return generate_over_runs(plugins.registry, options, settings);
  AdaptedModel model = generation_model(plugins.registry, options.model);
  const Generation generation = generate_text(model, options.prompt, settings);
  print_generation(options, generation);
  return kSuccess;
}

}  // namespace peft::cli
