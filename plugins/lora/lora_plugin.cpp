// The `lora` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "lora.h"

namespace {

void register_lora(peft::Registry& registry) {
  registry.add_method({"lora", "LoRA: a trained low-rank update s * B A on each selected Linear (mergeable)",
                       [](const peft::Options& options) {
                         return std::make_shared<peft::lora::Lora>(peft::lora::lora_options_from(options));
                       },
                       peft::lora::lora_option_specs()});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "lora", "0.1.0", "LoRA (Hu et al., 2021), Hugging Face peft adapter files",
            register_lora)
