// The `llama` backbone plugin: Hugging Face LLaMA-family decoders, configured by the model folder's config.json.
#include <peft/plugin.h>

#include "llama_model.h"

namespace {

void register_llama(peft::Registry& registry) {
  registry.add_backbone({"llama", "LLaMA-family decoders in Hugging Face layout (config.json, sharded safetensors)",
                         peft::llama::llama_option_table(), [](const peft::llama::LlamaOptions& options) {
                           return std::make_shared<peft::llama::Llama>(peft::llama::llama_config_from(options));
                         }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::backbone, "llama", "0.1.0", "LLaMA-family decoders (Hugging Face layout)", register_llama)
