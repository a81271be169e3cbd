// The `vit` backbone plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "vision_transformer.h"

namespace {

void register_vit(peft::Registry& registry) {
  registry.add_backbone({"vit", "Vision Transformer (timm-compatible names, checkpoints and variants)",
                         peft::vit::vit_option_table(), [](const peft::vit::VitOptions& options) {
                           return std::make_shared<peft::vit::VisionTransformer>(peft::vit::vit_config_from(options));
                         }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::backbone, "vit", "0.1.0", "Vision Transformer (timm-compatible)", register_vit)
