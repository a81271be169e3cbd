#include "contract/hf_config_check.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "hf_adapter/hf_adapter.h"
#include "peft/strings.h"
#include "run_files.h"

namespace peft::contract {
namespace {

nlohmann::json read_config(const std::filesystem::path& folder) {
  std::ifstream in(folder / kAdapterConfigFile);
  return nlohmann::json::parse(in, nullptr, false);
}

// The first entry of `config[key]` (a list) that names no module of `modules`, or "".
std::string unknown_module(const nlohmann::json& config, const std::string& key,
                           const std::vector<std::string>& modules) {
  if (!config.contains(key) || !config[key].is_array()) return {};
  for (const auto& entry : config[key]) {
    if (!entry.is_string()) return key + " holds " + entry.dump() + ", not a module name";
    const std::string name = entry.get<std::string>();
    const bool named = std::any_of(modules.begin(), modules.end(),
                                   [&](const std::string& module) { return names_module(module, name); });
    if (!named) return key + " names '" + name + "', which is no module of the model";
  }
  return {};
}

}  // namespace

bool has_hf_config(const std::filesystem::path& folder) {
  const nlohmann::json config = read_config(folder);
  return config.is_object() && config.contains("peft_type");
}

std::string hf_config_holds(const std::filesystem::path& folder, const AdaptedModel& model, const Registry& methods,
                            const std::function<std::shared_ptr<Backbone>()>& fresh, const Batch& batch,
                            bool head_trains, const at::Tensor& expected) {
  const nlohmann::json config = read_config(folder);
  std::vector<std::string> modules;
  for (const auto& item : model.backbone->named_modules("", false)) modules.push_back(item.key());
  for (const std::string key : {"target_modules", "modules_to_save", "feedforward_modules"}) {
    if (auto problem = unknown_module(config, key, modules); !problem.empty()) return "adapter_config.json: " + problem;
  }
  const std::string type = config["peft_type"].is_string() ? config["peft_type"].get<std::string>() : "";
  if (type != "LORA" && type != "IA3") return {};
  AdaptedModel read_back = adapt_to_hf_adapter(methods, fresh(), read_hf_adapter(folder), head_trains);
  at::NoGradGuard no_grad;
  read_back.train(false);
  const at::Tensor actual = read_back.logits(batch);
  if (actual.sizes() == expected.sizes() && at::allclose(actual, expected, 1e-4, 1e-5)) return {};
  return "read as Hugging Face peft reads its files (peft_type " + type +
         "), the adapter gives other outputs than the model that saved it";
}

}  // namespace peft::contract
