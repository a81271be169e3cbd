#include "model_builder.h"

#include <algorithm>
#include <optional>

#include "hub_folder.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/strings.h"
#include "text_format.h"

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

BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& given) {
  BackboneSection section = given;
  const BackboneEntry& entry = plugin_entry(registry.backbones(), section);
  std::optional<std::filesystem::path> weights = section.checkpoint;
  std::optional<HubFolder> hub;
  if (weights && std::filesystem::is_directory(*weights)) {
    const std::filesystem::path folder = *weights;
    if (find_option_spec(entry.options, "config") != nullptr) {
      // A Hugging Face model folder: the backbone configures itself from its config.json (unless the recipe names
      // another), and its weights are the folder's, sharded or not.
      if (section.options.count("config") == 0) {
        section.options["config"] = (folder / "config.json").string();
        section.option_contexts["config"] = section.context;
      }
      const std::filesystem::path index = folder / "model.safetensors.index.json";
      weights = std::filesystem::exists(index) ? index : folder / "model.safetensors";
    } else {
      hub = read_hub_folder(folder, section, entry);
      weights = hub->weights;
    }
  }
  const Options options = resolve_options(entry.options, section.options, section.context, section.option_contexts);
  BuiltBackbone built;
  built.backbone = built_by_plugin(section, "backbone", [&] { return entry.create(options); });
  if (const ImageInput* images = built.backbone->image_input()) built.preprocessing = images->preprocessing();
  if (hub && !hub->pretrained_cfg.empty()) {
    built.preprocessing = hub->pretrained_cfg.over(built.preprocessing);
    const Preprocessing& p = built.preprocessing;
    built.notices.push_back("preprocessing from " + hub->config_file.string() + ": mean " + shortest(p.mean) +
                            ", std " + shortest(p.std) + ", " + p.interpolation + " resize, crop_pct " +
                            shortest(p.crop_pct));
  }
  if (find_option_spec(entry.options, "config") != nullptr) built.model_folder = section.config_folder();
  if (weights) {
    if (!std::filesystem::exists(*weights)) {
      throw Error("recipe", section.context + ": checkpoint " + weights->string() + " does not exist");
    }
    const std::vector<std::string> loaded = built.backbone->load_checkpoint(CheckpointSource::open(*weights));
    built.notices.insert(built.notices.end(), loaded.begin(), loaded.end());
    built.weights = *weights;
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
  ClassifierHead& head = require_classifier(*built.backbone, "image_classification");
  if (section.head == "new" || head.num_classes() != num_classes) {
    head.reset_classifier(num_classes);
    built.notices.push_back("a new head for " + std::to_string(num_classes) + " classes");
  }
}

}  // namespace peft
