#include "adapter_file.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "file_fingerprint.h"
#include "json_values.h"
#include "peft/atomic_file.h"
#include "peft/bounded_json.h"
#include "peft/error.h"
#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft {

NamedTensors head_tensors(const AdaptedModel& model) {
  NamedTensors tensors;
  for (const auto& trainable : model.trainable) {
    if (std::find(model.head_names.begin(), model.head_names.end(), trainable.name) != model.head_names.end()) {
      tensors.emplace_back(trainable.name, trainable.tensor);
    }
  }
  return tensors;
}

NamedTensors adapter_tensors(AdaptedModel& model) {
  NamedTensors tensors = model.method->adapter_state();
  for (auto& head : head_tensors(model)) tensors.push_back(std::move(head));
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

NamedTensors prefixed_for_file(const NamedTensors& tensors) {
  NamedTensors prefixed;
  for (const auto& [name, tensor] : tensors) {
    prefixed.emplace_back(kAdapterKeyPrefix + name, tensor.detach().to(at::kCPU).contiguous());
  }
  return prefixed;
}

namespace {

// Reads what prefixed_for_file(adapter_tensors()) wrote to `file` back into `model`.
void load_adapter_file(const fs::path& file, AdaptedModel& model) {
  if (!fs::exists(file)) throw Error("adapter", file.string() + " does not exist");
  const TensorFile loaded = read_safetensors(file);
  NamedTensors tensors;
  const std::string prefix = kAdapterKeyPrefix;
  for (const auto& [name, tensor] : loaded.tensors) {
    tensors.emplace_back(name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name, tensor);
  }
  load_adapter_tensors(model, tensors, file.string());
}

constexpr const char* kEpochPrefix = "epoch-";
constexpr const char* kEpochSuffix = ".safetensors";

// The epoch of a file named as epoch_adapter_file names them, or nothing.
std::optional<std::int64_t> epoch_of(const fs::path& file) {
  const std::string name = file.filename().string();
  const std::string prefix = kEpochPrefix;
  const std::string suffix = kEpochSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() < 3 || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const std::int64_t epoch = std::stoll(digits);
  // Only the one spelling epoch_adapter_file gives (epoch-005, not epoch-0005).
  if (epoch_adapter_file("", epoch).filename() != name) return std::nullopt;
  return epoch;
}

// The record of the checkpoint a run was trained on: its path, and the size and hash of what it is read from (for
// a sharded folder, every shard as well, each named, so the check can say which one changed).
nlohmann::json fingerprint_record(const fs::path& weights) {
  const auto files = checkpoint_fingerprints(weights);
  const FileFingerprint whole = files.size() == 1 ? files.front().second : combined(files);
  nlohmann::json record{{"path", weights.string()}, {"bytes", whole.bytes}, {"hash", whole.hash}};
  if (files.size() > 1) {
    nlohmann::json each = nlohmann::json::array();
    for (const auto& [file, fingerprint] : files) {
      each.push_back({{"path", file.filename().string()}, {"bytes", fingerprint.bytes}, {"hash", fingerprint.hash}});
    }
    record["files"] = each;
  }
  return record;
}

// Where a Hugging Face tool finds the base model: the model folder of a causal LM, else the checkpoint file.
fs::path base_model_path(const fs::path& weights, const AdaptedModel& model) {
  const fs::path file = fs::absolute(weights).lexically_normal();
  const fs::path folder = file.parent_path();
  std::error_code error;
  const bool model_folder = fs::exists(folder / "config.json", error) && model.backbone->causal_lm() != nullptr;
  return model_folder ? folder : file;
}

}  // namespace

std::string adapter_config_text(const std::string& method_config, const AdaptedModel& model,
                                const std::optional<fs::path>& backbone_weights) {
  // Ordered: the method's keys stay in the order it wrote them (LoraConfig's as peft lists them).
  nlohmann::ordered_json config = nlohmann::ordered_json::parse(method_config, nullptr, false);
  if (!config.is_object()) throw Error(model.method_name, "adapter_config_json() is not a JSON object");
  std::vector<std::string> head_modules;
  for (const auto& name : model.head_names) {
    const std::string module = name.substr(0, name.rfind('.'));
    if (std::find(head_modules.begin(), head_modules.end(), module) == head_modules.end()) {
      head_modules.push_back(module);
    }
  }
  if (!config.contains("peft_type")) {
    // peft's own config: the method's name and resolved options first (unless the method wrote them), then the
    // method's own keys.
    nlohmann::ordered_json options = nlohmann::ordered_json::object();
    for (const auto& [key, value] : model.method_options.values()) options[key] = to_json(value);
    nlohmann::ordered_json own{{"method", config.value("method", nlohmann::ordered_json(model.method_name))},
                               {"options", config.value("options", options)}};
    for (const auto& [key, value] : config.items()) own[key] = value;
    return own.dump(2) + "\n";
  }
  // The keys that describe the run rather than the method are the host's, whatever the plugin wrote: a plugin's
  // hard-coded modules_to_save or target_modules must not contradict the model it was attached to.
  config["modules_to_save"] = head_modules.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(head_modules);
  config["target_modules"] = model.site_names;
  // What PeftModel.from_pretrained and llama.cpp's convert_lora_to_gguf.py read to find the base model: a
  // Hugging Face model folder (the weights' folder, with its config.json), else the checkpoint file; absolute and
  // normalised, so that either resolves it from wherever it runs.
  if (backbone_weights) config["base_model_name_or_path"] = base_model_path(*backbone_weights, model).string();
  // A causal LM adapted with its own, frozen LM head: PeftModelForCausalLM; with a new classifier head (score,
  // saved as modules_to_save): PeftModelForSequenceClassification; anything else has no transformers task.
  config["task_type"] = model.backbone->causal_lm() == nullptr ? nlohmann::ordered_json()
                        : head_modules.empty()                 ? nlohmann::ordered_json("CAUSAL_LM")
                                                               : nlohmann::ordered_json("SEQ_CLS");
  return config.dump(2) + "\n";
}

void check_adapter_config(const fs::path& folder, const AdaptedModel& model) {
  const fs::path file = folder / kAdapterConfigFile;
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    throw Error("adapter",
                file.string() + " is missing (a run folder holds the adapter_config.json it was saved with)");
  }
  std::ifstream in(file);
  const nlohmann::json given = parse_bounded_json(in, "adapter", file.string());
  if (!given.is_object()) throw Error("adapter", file.string() + " is not a JSON object");
  const nlohmann::json expected =
      nlohmann::json::parse(adapter_config_text(model.method->adapter_config_json(), model, std::nullopt));
  for (const auto& [key, value] : expected.items()) {
    if (key == "base_model_name_or_path") continue;  // the run's record checks the weights themselves
    if (!given.contains(key) || given[key] != value) {
      throw Error("adapter", file.string() + ": " + key + " = " + (given.contains(key) ? given[key].dump() : "(none)") +
                                 ", but the run's adapter has " + value.dump() +
                                 " (the file was edited, or comes from another run)");
    }
  }
}

void save_adapter(const fs::path& folder, AdaptedModel& model, const std::string& backbone_plugin,
                  const std::optional<fs::path>& backbone_weights) {
  write_safetensors(folder / kAdapterTensorsFile, prefixed_for_file(adapter_tensors(model)), {{"format", "pt"}});

  write_text_atomically(folder / kAdapterConfigFile,
                        adapter_config_text(model.method->adapter_config_json(), model, backbone_weights));

  nlohmann::json options = nlohmann::json::object();
  for (const auto& [key, value] : model.method_options.values()) options[key] = to_json(value);
  nlohmann::json record{
      {"method", model.method_name},
      {"options", options},
      {"sites", model.site_names},
      {"head", model.head_names},
      {"backbone", backbone_plugin},
      {"trainable_parameters", model.trainable_count()},
      // The head's size lets `peft merge` rebuild the model without the dataset.
      {"num_classes", model.backbone->classifier() != nullptr ? model.backbone->classifier()->num_classes() : 0}};
  if (backbone_weights) record["backbone_checkpoint"] = fingerprint_record(*backbone_weights);
  write_text_atomically(folder / kAdapterRecordFile, record.dump(2) + "\n");
}

void check_backbone_weights(const fs::path& folder, const std::optional<fs::path>& backbone_weights) {
  const fs::path record_file = folder / kAdapterRecordFile;
  std::ifstream in(record_file);
  const nlohmann::json record = nlohmann::json::parse(in, nullptr, false);
  if (!record.is_object() || !record.contains("backbone_checkpoint") || !backbone_weights) return;
  const nlohmann::json& kept = record["backbone_checkpoint"];
  const auto recorded = [&](const nlohmann::json& entry) {
    if (!entry.is_object() || !entry.contains("bytes") || !entry.contains("hash") ||
        !entry["bytes"].is_number_unsigned() || !entry["hash"].is_string()) {
      throw Error("run", record_file.string() + ": backbone_checkpoint needs bytes and hash");
    }
    return FileFingerprint{entry["bytes"].get<std::uintmax_t>(), entry["hash"].get<std::string>()};
  };
  // Records from before shards were fingerprinted hold the index file's alone; they are checked as they were made.
  const bool per_file = kept.is_object() && kept.contains("files") && kept["files"].is_array();
  const auto now =
      per_file
          ? checkpoint_fingerprints(*backbone_weights)
          : std::vector<std::pair<fs::path, FileFingerprint>>{{*backbone_weights, file_fingerprint(*backbone_weights)}};
  const nlohmann::json then = per_file ? kept["files"] : nlohmann::json::array({kept});
  const auto refuse = [&](const fs::path& file, const std::string& now_text, const std::string& then_text) {
    throw Error("run", "the backbone checkpoint " + backbone_weights->string() +
                           " is not the one this run was trained on (" + file.string() + ": now " + now_text + "; " +
                           record_file.string() + " recorded " + then_text +
                           "): the adapter on other weights gives other numbers (hint: restore that file)");
  };
  const auto text = [](const FileFingerprint& f) { return std::to_string(f.bytes) + " bytes, hash " + f.hash; };
  if (now.size() != then.size()) {
    refuse(*backbone_weights, std::to_string(now.size()) + " files", std::to_string(then.size()) + " files");
  }
  for (std::size_t i = 0; i < now.size(); ++i) {
    const FileFingerprint was = recorded(then[i]);
    if (!(now[i].second == was)) refuse(now[i].first, text(now[i].second), text(was));
  }
}

void load_adapter(const fs::path& folder, AdaptedModel& model) {
  check_adapter_config(folder, model);
  load_adapter_file(folder / kAdapterTensorsFile, model);
}

fs::path epoch_adapter_file(const fs::path& folder, std::int64_t epoch) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%03lld%s", kEpochPrefix, static_cast<long long>(epoch), kEpochSuffix);
  return folder / kEpochsFolder / name;
}

bool is_epoch_adapter_file(const fs::path& file) { return epoch_of(atomic_target_name(file)).has_value(); }

void save_epoch_adapter(const fs::path& folder, AdaptedModel& model, std::int64_t epoch) {
  std::error_code error;
  fs::create_directories(folder / kEpochsFolder, error);
  if (error) throw Error("output", "cannot create " + (folder / kEpochsFolder).string() + ": " + error.message());
  write_safetensors(epoch_adapter_file(folder, epoch), prefixed_for_file(adapter_tensors(model)),
                    {{"format", "pt"}, {"epoch", std::to_string(epoch)}});
}

std::vector<std::int64_t> kept_epochs(const fs::path& folder) {
  std::vector<std::int64_t> epochs;
  std::error_code error;
  if (!fs::is_directory(folder / kEpochsFolder, error)) return epochs;
  for (const auto& entry : fs::directory_iterator(folder / kEpochsFolder)) {
    if (!entry.is_regular_file()) continue;
    if (const auto epoch = epoch_of(entry.path())) epochs.push_back(*epoch);
  }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

void load_epoch_adapter(const fs::path& folder, std::int64_t epoch, AdaptedModel& model) {
  load_adapter_file(epoch_adapter_file(folder, epoch), model);
}

}  // namespace peft
