// The `dora` method plugin: DoRA (Liu et al., 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation") as Hugging Face
// peft's LoraConfig(use_dora=True): LoRA's update inside a trained per-row magnitude, W' = m ⊙ (W + s·B A) / ‖W + s·B
// A‖ with the norm detached. The method is LoRA's (plugins/lora/lora_adapter.h); registration only here.
#include <peft/plugin.h>

#include "lora.h"

namespace {

void register_dora(peft::Registry& registry) {
  using peft::lora::LoraOptions;
  registry.add_method({"dora", "DoRA: LoRA's update inside a trained magnitude per output row (mergeable)",
                       peft::lora::dora_option_table(), [](LoraOptions options) {
                         options.use_dora = true;
                         return std::make_shared<peft::lora::Lora>(options);
                       }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "dora", "0.1.0", "DoRA (Liu et al., 2024), Hugging Face peft adapter files",
            register_dora)
