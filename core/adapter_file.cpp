#include "adapter_file.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "file_fingerprint.h"
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

void save_adapter(const fs::path& folder, AdaptedModel& model, const std::string& backbone_plugin,
                  const std::optional<fs::path>& backbone_weights) {
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
  nlohmann::json record{{"method", model.method_name},
                        {"options", options},
                        {"sites", model.site_names},
                        {"head", model.head_names},
                        {"backbone", backbone_plugin},
                        {"trainable_parameters", model.trainable_count()},
                        // The head's size lets `peft merge` rebuild the model without the dataset.
                        {"num_classes", model.backbone->num_classes()}};
  if (backbone_weights) {
    const FileFingerprint fingerprint = file_fingerprint(*backbone_weights);
    record["backbone_checkpoint"] = {
        {"path", backbone_weights->string()}, {"bytes", fingerprint.bytes}, {"hash", fingerprint.hash}};
  }
  write_text_atomically(folder / kAdapterRecordFile, record.dump(2) + "\n");
}

void check_backbone_weights(const fs::path& folder, const std::optional<fs::path>& backbone_weights) {
  const fs::path record_file = folder / kAdapterRecordFile;
  std::ifstream in(record_file);
  const nlohmann::json record = nlohmann::json::parse(in, nullptr, false);
  if (!record.is_object() || !record.contains("backbone_checkpoint") || !backbone_weights) return;
  const nlohmann::json& kept = record["backbone_checkpoint"];
  if (!kept.is_object() || !kept.contains("bytes") || !kept.contains("hash")) {
    throw Error("run", record_file.string() + ": backbone_checkpoint needs bytes and hash");
  }
  const FileFingerprint now = file_fingerprint(*backbone_weights);
  const FileFingerprint then{kept["bytes"].get<std::uintmax_t>(), kept["hash"].get<std::string>()};
  if (!(now == then)) {
    throw Error("run", "the backbone checkpoint " + backbone_weights->string() +
                           " is not the one this run was trained on (now " + std::to_string(now.bytes) +
                           " bytes, hash " + now.hash + "; " + record_file.string() + " recorded " +
                           std::to_string(then.bytes) + " bytes, hash " + then.hash +
                           "): the adapter on other weights gives other numbers (hint: restore that file)");
  }
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
