#include "model_builder.h"

#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/strings.h"

namespace peft {

template <class Interface>
const RegistryEntry<Interface>& plugin_entry(const RegistryTable<Interface>& table, const PluginSection& section) {
  const RegistryEntry<Interface>* entry = table.find(section.plugin);
  if (entry == nullptr) {
    const std::string known = join(table.names());
    throw Error("recipe", section.context + ": plugin = '" + section.plugin + "' is not a loaded " + table.kind() +
                              " plugin, expected one of: " + (known.empty() ? "(none; see peft list)" : known));
  }
  return *entry;
}

template const MethodEntry& plugin_entry(const RegistryTable<Method>&, const PluginSection&);
template const BackboneEntry& plugin_entry(const RegistryTable<Backbone>&, const PluginSection&);

std::string torch_reason(const c10::Error& error) {
  std::string text = error.what_without_backtrace();
  text = text.substr(0, text.find('\n'));
  if (text.rfind("[enforce fail at ", 0) == 0) {
    const auto condition_end = text.find(". ", text.find("] "));
    if (condition_end != std::string::npos) text = text.substr(condition_end + 2);
  }
  return text;
}

BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& section) {
  const BackboneEntry& entry = plugin_entry(registry.backbones(), section);
  const Options options = resolve_options(entry.options, section.options, section.context, section.option_contexts);
  BuiltBackbone built;
  built.backbone = built_by_plugin(section, "backbone", [&] { return entry.create(options); });
  if (section.checkpoint) {
    if (!std::filesystem::exists(*section.checkpoint)) {
      throw Error("recipe", section.context + ": checkpoint " + section.checkpoint->string() + " does not exist");
    }
    built.notices = built.backbone->load_checkpoint(read_safetensors(*section.checkpoint));
  }
  return built;
}

void fit_head(BuiltBackbone& built, const BackboneSection& section, std::int64_t num_classes) {
  {
    const auto given = section.options.find("num_classes");
    if (given != section.options.end() && std::get_if<std::int64_t>(&given->second) &&
        std::get<std::int64_t>(given->second) != num_classes) {
      const auto where = section.option_contexts.find("num_classes");
      throw Error("recipe", (where == section.option_contexts.end() ? section.context : where->second) +
                                ": num_classes = " + std::to_string(std::get<std::int64_t>(given->second)) +
                                ", but the data has " + std::to_string(num_classes) +
                                " classes (hint: remove it, or set it to " + std::to_string(num_classes) + ")");
    }
  }
  if (section.head == "new" || built.backbone->num_classes() != num_classes) {
    built.backbone->reset_classifier(num_classes);
    built.notices.push_back("a new head for " + std::to_string(num_classes) + " classes");
  }
}

}  // namespace peft
