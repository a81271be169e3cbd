// The `lora` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "lora.h"

namespace {

void register_lora(peft::Registry& registry) {
  using peft::lora::LoraOptions;
  registry.add_method({"lora", "LoRA: a trained low-rank update s * B A on each selected Linear (mergeable)",
                       peft::lora::lora_option_table(),
                       [](const LoraOptions& options) { return std::make_shared<peft::lora::Lora>(options); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "lora", "0.1.0", "LoRA (Hu et al., 2021), Hugging Face peft adapter files",
            register_lora)
