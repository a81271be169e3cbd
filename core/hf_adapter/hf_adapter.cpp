#include "hf_adapter.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "adapter_file.h"
#include "hf_targets.h"
#include "json_values.h"
#include "peft/bounded_json.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/strings.h"
#include "run_files.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

using Json = nlohmann::json;

// A method's parts of a module's tensors: `<module>.lora_A.weight` is module + ".lora_A.weight".
const std::vector<std::string> kLoraParts{".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector"};
const std::vector<std::string> kIa3Parts{".ia3_l"};

// Keys that describe the file rather than the model it computes: any value is fine.
const std::set<std::string> kMetadataKeys{
    "peft_type",    "task_type",     "base_model_name_or_path", "revision",   "inference_mode",  "auto_mapping",
    "peft_version", "megatron_core", "qalora_group_size",       "eva_config", "init_ia3_weights"};
// Keys each config's method reads (its target rules, its options); the rest must be off.
const std::set<std::string> kLoraKeys{"r",
                                      "lora_alpha",
                                      "lora_dropout",
                                      "use_rslora",
                                      "use_dora",
                                      "rank_pattern",
                                      "alpha_pattern",
                                      "target_modules",
                                      "exclude_modules",
                                      "layers_to_transform",
                                      "layers_pattern",
                                      "modules_to_save",
                                      "bias",
                                      "fan_in_fan_out",
                                      "init_lora_weights"};
const std::set<std::string> kIa3Keys{"target_modules", "feedforward_modules", "exclude_modules", "layers_to_transform",
                                     "layers_pattern", "modules_to_save",     "fan_in_fan_out"};

bool is_off(const Json& value) {
  return value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
         ((value.is_string() || value.is_array() || value.is_object()) && value.empty());
}

Json read_config(const fs::path& file) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    throw Error("adapter", file.string() + (fs::exists(file, error) ? " is not a file" : " does not exist"));
  }
  std::ifstream in(file, std::ios::binary);
  Json config = parse_bounded_json(in, "adapter", file.string());
  if (!config.is_object()) throw Error("adapter", file.string() + ": not a JSON object");
  return config;
}

// Every key peft does not read is at its off value (null, false, empty): a newer peft's key that changes the model
// is refused rather than ignored.
void check_other_keys(const Json& config, const std::set<std::string>& method_keys, const std::string& file) {
  for (const auto& [key, value] : config.items()) {
    if (method_keys.count(key) != 0 || kMetadataKeys.count(key) != 0 || is_off(value)) continue;
    throw Error("adapter",
                file + ": " + key + " = " + value.dump() +
                    ": peft cannot apply it (it reads LoRA, DoRA and IA3 on Linear layers; a key it does not "
                    "read must be null, false or empty)");
  }
}

void require(const Json& config, const std::string& key, const Json& expected, const std::string& file,
             const std::string& why) {
  if (config.contains(key) && !config[key].is_null() && config[key] != expected) {
    throw Error("adapter",
                file + ": " + key + " = " + config[key].dump() + ", expected " + expected.dump() + " (" + why + ")");
  }
}

std::int64_t rank_value(const Json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 1) {
    throw Error("adapter", where + " = " + value.dump() + ", expected an integer >= 1");
  }
  return value.get<std::int64_t>();
}

double number_value(const Json& value, const std::string& where) {
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    throw Error("adapter", where + " = " + value.dump() + ", expected a finite number");
  }
  return value.get<double>();
}

bool bool_value(const Json& config, const std::string& key, const std::string& file) {
  if (!config.contains(key) || config[key].is_null()) return false;
  if (!config[key].is_boolean())
    throw Error("adapter", file + ": " + key + " = " + config[key].dump() + ", expected true or false");
  return config[key].get<bool>();
}

void check_lora_init(const Json& config, const std::string& file) {
  if (!config.contains("init_lora_weights")) return;
  const Json& init = config["init_lora_weights"];
  if (init.is_boolean() || init.is_null()) return;
  const std::string name = init.is_string() ? init.get<std::string>() : init.dump();
  if (name == "gaussian" || name == "eva" || name == "orthogonal") return;  // only where training started
  throw Error("adapter", file + ": init_lora_weights = " + init.dump() +
                             ": that initialisation rewrites the base model's weights, so the adapter is not "
                             "W + B A over the original ones (convert it with peft's "
                             "path_initial_model_for_weight_conversion first)");
}

// The file's tensors by plain name, and the modules that carry one of `parts`.
struct FileTensors {
  NamedTensors tensors;
  std::vector<std::string> modules;
  std::map<std::string, std::set<std::string>> parts;
};

FileTensors read_tensors(const fs::path& file, const std::vector<std::string>& method_parts) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    throw Error("adapter", file.string() + (fs::exists(file, error) ? " is not a file" : " does not exist") +
                               " (only safetensors adapters are read: an adapter_model.bin needs converting)");
  }
  const TensorFile loaded = read_safetensors(file);
  const std::string prefix = kAdapterKeyPrefix;
  FileTensors result;
  for (const auto& [key, tensor] : loaded.tensors) {
    if (key.rfind(prefix, 0) != 0) {
      throw Error("adapter", file.string() + ": tensor " + key + " is not under peft's '" + prefix + "' prefix");
    }
    const std::string name = key.substr(prefix.size());
    if (name.find(".lora_embedding_") != std::string::npos) {
      throw Error("adapter", file.string() + ": " + key + " is LoRA on an embedding; peft adapts Linear layers only");
    }
    for (const auto& part : method_parts) {
      if (name.size() <= part.size() || name.compare(name.size() - part.size(), part.size(), part) != 0) continue;
      const std::string module = name.substr(0, name.size() - part.size());
      if (result.parts[module].empty()) result.modules.push_back(module);
      result.parts[module].insert(part);
    }
    result.tensors.emplace_back(name, tensor);
  }
  return result;
}

// Every adapted module is one the config selects, with the tensors its method needs.
void check_modules(const FileTensors& file_tensors, const std::vector<std::string>& needed, const HfTargets& targets,
                   const std::string& file) {
  if (file_tensors.modules.empty()) throw Error("adapter", file + ": no adapter tensors in it");
  for (const auto& module : file_tensors.modules) {
    for (const auto& part : needed) {
      if (file_tensors.parts.at(module).count(part) == 0) {
        throw Error("adapter", file + ": " + module + " has no " + part.substr(1) + " tensor");
      }
    }
    if (!targets.targets(module)) {
      throw Error("adapter", file + ": it has tensors for " + module +
                                 ", which the config's target_modules (with exclude_modules, layers_to_transform) "
                                 "does not select");
    }
  }
}

// A rank_pattern or alpha_pattern object's keys in the file's order.
std::vector<std::string> pattern_keys(const Json& config, const std::string& key, const std::string& file) {
  std::vector<std::string> keys;
  if (!config.contains(key) || config[key].is_null()) return keys;
  if (!config[key].is_object()) throw Error("adapter", file + ": " + key + ": expected an object");
  for (const auto& [pattern, value] : config[key].items()) keys.push_back(pattern);
  return keys;
}

// rank_pattern / alpha_pattern resolved as peft resolves them, per adapted module, as `MODULE=VALUE` entries.
template <class Parse>
std::vector<std::string> module_patterns(const Json& config, const std::string& key,
                                         const std::vector<std::string>& modules, const std::string& file,
                                         Parse parse) {
  std::vector<std::string> entries;
  const std::vector<std::string> keys = pattern_keys(config, key, file);
  for (const auto& module : modules) {
    if (const auto pattern = hf_pattern_key(keys, module, file + ": " + key)) {
      entries.push_back(module + "=" + parse(config[key][*pattern], file + ": " + key + "[\"" + *pattern + "\"]"));
    }
  }
  return entries;
}

MethodSection lora_method(const Json& config, bool dora, const FileTensors& tensors, const std::string& file) {
  require(config, "bias", "none", file, "peft trains no biases with LoRA");
  require(config, "fan_in_fan_out", false, file, "GPT-2's Conv1D layers; peft's sites are Linear");
  require(config, "lora_bias", false, file, "peft's LoRA has no bias on B");
  check_lora_init(config, file);
  MethodSection method;
  method.plugin = dora ? "dora" : "lora";
  if (!config.contains("r")) throw Error("adapter", file + ": no r");
  method.options["r"] = rank_value(config["r"], file + ": r");
  method.options["lora_alpha"] =
      config.contains("lora_alpha") ? number_value(config["lora_alpha"], file + ": lora_alpha") : 8.0;
  method.options["lora_dropout"] =
      config.contains("lora_dropout") ? number_value(config["lora_dropout"], file + ": lora_dropout") : 0.0;
  method.options["use_rslora"] = bool_value(config, "use_rslora", file);
  method.options["rank_pattern"] =
      module_patterns(config, "rank_pattern", tensors.modules, file,
                      [](const Json& v, const std::string& where) { return std::to_string(rank_value(v, where)); });
  method.options["alpha_pattern"] =
      module_patterns(config, "alpha_pattern", tensors.modules, file,
                      [](const Json& v, const std::string& where) { return Json(number_value(v, where)).dump(); });
  for (const auto& module : tensors.modules) {
    if (!dora && tensors.parts.at(module).count(".lora_magnitude_vector") != 0) {
      throw Error("adapter", file + ": " + module + " has a lora_magnitude_vector, but use_dora is false");
    }
  }
  return method;
}

MethodSection ia3_method(const Json& config, const FileTensors& tensors, const std::string& file) {
  require(config, "fan_in_fan_out", false, file, "GPT-2's Conv1D layers; peft's sites are Linear");
  const HfFeedforward feedforward = HfFeedforward::from_config(config, file);
  std::vector<std::string> feedforward_modules;
  for (const auto& module : tensors.modules) {
    if (feedforward.contains(module)) feedforward_modules.push_back(module);
  }
  MethodSection method;
  method.plugin = "ia3";
  method.options["feedforward_modules"] = feedforward_modules;
  return method;
}

}  // namespace

bool is_hf_adapter_folder(const fs::path& folder) {
  std::error_code error;
  return fs::is_directory(folder, error) && fs::exists(folder / kAdapterConfigFile, error) &&
         !fs::exists(folder / kRecipeFile, error);
}

HfAdapter read_hf_adapter(const fs::path& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    throw Error("adapter", folder.string() + (fs::exists(folder, error) ? " is not a folder" : " does not exist") +
                               " (expected a folder that Hugging Face peft's save_pretrained wrote)");
  }
  const fs::path config_file = folder / kAdapterConfigFile;
  const std::string file = config_file.string();
  const Json config = read_config(config_file);
  const Json type = config.value("peft_type", Json());
  const bool lora = type == "LORA";
  if (!lora && type != "IA3") {
    throw Error("adapter", file + ": peft_type = " + (config.contains("peft_type") ? type.dump() : "none") +
                               ": peft reads LORA (use_dora too) and IA3 adapters");
  }
  check_other_keys(config, lora ? kLoraKeys : kIa3Keys, file);
  const bool dora = lora && bool_value(config, "use_dora", file);
  const HfTargets targets = HfTargets::from_config(config, file);
  const fs::path tensor_file = folder / kAdapterTensorsFile;
  FileTensors tensors = read_tensors(tensor_file, lora ? kLoraParts : kIa3Parts);
  // Each module's tensors its method needs: DoRA's all three parts, LoRA's factors, IA3's vector.
  const std::vector<std::string> needed = !lora  ? kIa3Parts
                                          : dora ? kLoraParts
                                                 : std::vector<std::string>{".lora_A.weight", ".lora_B.weight"};
  check_modules(tensors, needed, targets, tensor_file.string());

  HfAdapter adapter;
  adapter.folder = folder;
  adapter.method = lora ? lora_method(config, dora, tensors, file) : ia3_method(config, tensors, file);
  adapter.method.targets = tensors.modules;
  adapter.method.context = file;
  adapter.tensors = std::move(tensors.tensors);
  if (config.contains("base_model_name_or_path") && config["base_model_name_or_path"].is_string()) {
    adapter.base_model = config["base_model_name_or_path"].get<std::string>();
  }
  adapter.targets = [targets](const std::string& module) { return targets.targets(module); };
  return adapter;
}

void load_hf_adapter_tensors(AdaptedModel& model, const HfAdapter& adapter) {
  const std::string file = (adapter.folder / kAdapterTensorsFile).string();
  std::set<std::string> trainable;  // the method's tensors and a head that trains
  for (const auto& tensor : model.trainable) trainable.insert(tensor.name);
  for (const auto& [name, tensor] : adapter.tensors) {
    if (trainable.count(name) == 0) {
      throw Error("adapter", file + ": " + name + " is neither " + model.method_name +
                                 "'s nor a head this model trains (modules_to_save of another model?)");
    }
  }
  load_adapter_tensors(model, adapter.tensors, file);
}

AdaptedModel adapt_to_hf_adapter(const Registry& registry, std::shared_ptr<Backbone> backbone, const HfAdapter& adapter,
                                 bool head_may_train) {
  const std::string file = (adapter.folder / kAdapterTensorsFile).string();
  std::set<std::string> adapted(adapter.method.targets.begin(), adapter.method.targets.end());
  std::set<std::string> sites;
  for (const auto& site : backbone->sites()) {
    const std::string& name = site->site_name();
    sites.insert(name);
    if (adapter.targets(name) && adapted.count(name) == 0) {
      throw Error("adapter", file + ": the config's target_modules select " + name +
                                 ", which it has no tensors for (an adapter of another model?)");
    }
  }
  for (const auto& module : adapter.method.targets) {
    if (sites.count(module) == 0) {
      throw Error("adapter", file + ": it adapts " + module +
                                 ", which is not one of the model's Linear layers (an adapter of another model?)");
    }
  }
  AdaptedModel model = adapt(registry, std::move(backbone), adapter.method, head_may_train);
  load_hf_adapter_tensors(model, adapter);
  return model;
}

std::vector<std::string> hf_adapter_overrides(const HfAdapter& adapter, const Recipe& recipe) {
  const std::string origin = "--init-adapter " + adapter.folder.string();
  if (recipe.method) {
    const MethodSection& method = *recipe.method;
    if (!method.plugin.empty() && method.plugin != adapter.method.plugin) {
      throw Error("run", method.context + ": plugin = \"" + method.plugin + "\", but " + origin + " holds a '" +
                             adapter.method.plugin + "' adapter (drop [method] or name that plugin)");
    }
    const auto refuse = [&](const std::string& key) {
      throw Error("run", method.context + ": " + key + " is set, but with " + origin +
                             " the method's options and targets are the adapter's (its adapter_config.json)");
    };
    if (!method.options.empty()) refuse("options." + method.options.begin()->first);
    if (!method.targets.empty()) refuse("targets");
    if (!method.exclude.empty()) refuse("exclude");
  }
  std::vector<std::string> overrides{"method.plugin=" + Json(adapter.method.plugin).dump(),
                                     "method.targets=" + Json(adapter.method.targets).dump()};
  for (const auto& [key, value] : adapter.method.options) {
    overrides.push_back("method.options." + key + "=" + to_json(value).dump());
  }
  return overrides;
}

}  // namespace peft
