// The `llama` backbone plugin: Hugging Face LLaMA-family decoders, configured by the model folder's config.json.
#include <peft/plugin.h>

#include "llama_model.h"

namespace {

void register_llama(peft::Registry& registry) {
  registry.add_backbone({"llama",
                         "LLaMA-family decoders in Hugging Face layout (config.json, sharded safetensors)",
                         [](const peft::Options& options) {
                           return std::make_shared<peft::llama::Llama>(
                               peft::llama::read_llama_config(options.get<std::string>("config")));
                         },
                         {{"config", peft::OptionType::string, std::nullopt,
                           "the model folder's config.json (set from [backbone] checkpoint = FOLDER)"}}});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::backbone, "llama", "0.1.0", "LLaMA-family decoders (Hugging Face layout)", register_llama)
