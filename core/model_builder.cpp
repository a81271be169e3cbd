#include "model_builder.h"

#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/strings.h"

namespace peft {

BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& section) {
  const BackboneEntry* entry = registry.backbones().find(section.plugin);
  if (entry == nullptr) {
    const std::string known = join(registry.backbones().names());
    throw Error("recipe", section.context + ": plugin = '" + section.plugin + "' is not a loaded backbone plugin" +
                              ", expected one of: " + (known.empty() ? "(none; see peft list)" : known));
  }
  BuiltBackbone built;
  built.backbone =
      entry->create(resolve_options(entry->options, section.options, section.context, section.option_contexts));
  if (section.checkpoint) {
    if (!std::filesystem::exists(*section.checkpoint)) {
      throw Error("recipe", section.context + ": checkpoint " + section.checkpoint->string() + " does not exist");
    }
    built.notices = built.backbone->load_checkpoint(read_safetensors(*section.checkpoint));
  }
  return built;
}

}  // namespace peft
