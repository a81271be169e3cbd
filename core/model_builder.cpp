#include "model_builder.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

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

namespace {

// A timm hub folder (what `save_pretrained` / the hub cache hold): config.json naming the architecture, and the
// weights in model.safetensors. The architecture fills the recipe's `variant` when it sets none.
std::filesystem::path hub_folder_weights(const std::filesystem::path& folder, BackboneSection& section,
                                         const BackboneEntry& entry) {
  const std::filesystem::path config_file = folder / "config.json";
  const std::filesystem::path weights = folder / "model.safetensors";
  std::ifstream in(config_file);
  if (!in) {
    throw Error("recipe", section.context + ": checkpoint " + folder.string() +
                              " is a folder without config.json (expected a timm hub folder: config.json and "
                              "model.safetensors, or a .safetensors file)");
  }
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (!config.is_object()) throw Error("recipe", config_file.string() + " is not a JSON object");
  const bool has_variant = std::any_of(entry.options.begin(), entry.options.end(),
                                       [](const OptionSpec& spec) { return spec.name == "variant"; });
  if (config.contains("architecture") && config["architecture"].is_string() && has_variant &&
      section.options.count("variant") == 0) {
    section.options["variant"] = config["architecture"].get<std::string>();
    section.option_contexts["variant"] = config_file.string() + " (architecture)";
  }
  if (!std::filesystem::exists(weights)) {
    throw Error("recipe", section.context + ": checkpoint folder " + folder.string() + " has no model.safetensors");
  }
  return weights;
}

}  // namespace

BuiltBackbone build_backbone(const Registry& registry, const BackboneSection& given) {
  BackboneSection section = given;
  const BackboneEntry& entry = plugin_entry(registry.backbones(), section);
  std::optional<std::filesystem::path> weights = section.checkpoint;
  if (weights && std::filesystem::is_directory(*weights)) weights = hub_folder_weights(*weights, section, entry);
  const Options options = resolve_options(entry.options, section.options, section.context, section.option_contexts);
  BuiltBackbone built;
  built.backbone = built_by_plugin(section, "backbone", [&] { return entry.create(options); });
  if (weights) {
    if (!std::filesystem::exists(*weights)) {
      throw Error("recipe", section.context + ": checkpoint " + weights->string() + " does not exist");
    }
    built.notices = built.backbone->load_checkpoint(read_safetensors(*weights));
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
