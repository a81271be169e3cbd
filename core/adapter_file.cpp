#include "adapter_file.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "json_values.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft {

NamedTensors adapter_tensors(AdaptedModel& model) {
  NamedTensors tensors = model.method->adapter_state();
  for (const auto& trainable : model.trainable) {
    if (std::find(model.head_names.begin(), model.head_names.end(), trainable.name) != model.head_names.end()) {
      tensors.emplace_back(trainable.name, trainable.tensor);
    }
  }
  return tensors;
}

void load_adapter_tensors(AdaptedModel& model, const NamedTensors& tensors, const std::string& source) {
  const std::set<std::string> head(model.head_names.begin(), model.head_names.end());
  NamedTensors head_targets;
  for (const auto& trainable : model.trainable) {
    if (head.count(trainable.name) != 0) head_targets.emplace_back(trainable.name, trainable.tensor);
  }
  NamedTensors head_state;
  NamedTensors method_state;
  for (const auto& [name, tensor] : tensors)
    (head.count(name) != 0 ? head_state : method_state).emplace_back(name, tensor);
  copy_named_tensors(head_targets, head_state, "adapter", source + ": the head does not fit the model",
                     "trained for another number of classes?");
  model.method->load_adapter_state(method_state, source);
}

void save_adapter(const fs::path& folder, AdaptedModel& model, const std::string& backbone_plugin) {
  NamedTensors prefixed;
  for (auto& [name, tensor] : adapter_tensors(model)) {
    prefixed.emplace_back(kAdapterKeyPrefix + name, tensor.detach().to(at::kCPU).contiguous());
  }
  write_safetensors(folder / kAdapterTensorsFile, prefixed, {{"format", "pt"}});

  nlohmann::json config = nlohmann::json::parse(model.method->adapter_config_json(), nullptr, false);
  if (!config.is_object()) throw Error(model.method_name, "adapter_config_json() is not a JSON object");
  std::vector<std::string> head_modules;
  for (const auto& name : model.head_names) {
    const std::string module = name.substr(0, name.rfind('.'));
    if (std::find(head_modules.begin(), head_modules.end(), module) == head_modules.end()) {
      head_modules.push_back(module);
    }
  }
  if (config.contains("peft_type") && !head_modules.empty()) config["modules_to_save"] = head_modules;
  write_text_atomically(folder / kAdapterConfigFile, config.dump(2) + "\n");

  nlohmann::json options = nlohmann::json::object();
  for (const auto& [key, value] : model.method_options.values()) options[key] = to_json(value);
  const nlohmann::json record{{"method", model.method_name},
                              {"options", options},
                              {"sites", model.site_names},
                              {"head", model.head_names},
                              {"backbone", backbone_plugin},
                              {"trainable_parameters", model.trainable_count()},
                              // The head's size lets `peft merge` rebuild the model without the dataset.
                              {"num_classes", model.backbone->num_classes()}};
  write_text_atomically(folder / kAdapterRecordFile, record.dump(2) + "\n");
}

void load_adapter(const fs::path& folder, AdaptedModel& model) {
  const fs::path file = folder / kAdapterTensorsFile;
  if (!fs::exists(file)) throw Error("adapter", file.string() + " does not exist");
  const TensorFile loaded = read_safetensors(file);
  NamedTensors tensors;
  const std::string prefix = kAdapterKeyPrefix;
  for (const auto& [name, tensor] : loaded.tensors) {
    tensors.emplace_back(name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name, tensor);
  }
  load_adapter_tensors(model, tensors, file.string());
}

}  // namespace peft
