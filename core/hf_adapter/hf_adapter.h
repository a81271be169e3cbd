#pragma once
// Adapter folders that Hugging Face peft saves (`save_pretrained`: adapter_config.json and
// adapter_model.safetensors), read as the built-in method that computes the same model: a LoRA config as `lora`
// (rsLoRA, rank_pattern, alpha_pattern, layers_to_transform and exclude_modules included), one with use_dora as
// `dora`, an IA3 config as `ia3`. What peft's methods cannot compute is refused by name: another peft_type, a
// non-default bias, fan_in_fan_out, an initialisation that rewrites the base weights (PiSSA, OLoRA, CorDA, LoftQ),
// LoRA on embeddings, any other key set to something other than its off value.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapted_model.h"
#include "peft/named_tensors.h"
#include "peft/registry.h"
#include "recipe.h"

namespace peft {

struct HfAdapter {
  std::filesystem::path folder;
  /// The method, its options (per-module ranks and alphas as `MODULE=VALUE` patterns with full names) and its
  /// targets: exactly the modules adapter_model.safetensors adapts, by full name.
  MethodSection method;
  /// The file's tensors by plain name (`model.layers.0.self_attn.q_proj.lora_A.weight`; a saved head's
  /// `score.weight`).
  NamedTensors tensors;
  /// base_model_name_or_path ("" when null).
  std::string base_model;
  /// Whether the config adapts the module of this name (peft's target rules), for the check against a model.
  std::function<bool(const std::string&)> targets;
};

/// Whether `folder` is an adapter folder of Hugging Face peft's rather than a peft run (adapter_config.json, no
/// recipe.toml).
bool is_hf_adapter_folder(const std::filesystem::path& folder);

/// Reads and checks `folder`'s two files; every problem is a one-line peft::Error naming the file and the key or
/// tensor.
HfAdapter read_hf_adapter(const std::filesystem::path& folder);

/// `backbone` with `adapter`'s method attached (adapt()) and its tensors loaded. A site the config targets but the
/// file has no tensors for, and a saved tensor that is neither the method's nor a head the model trains, are
/// peft::Errors naming them.
AdaptedModel adapt_to_hf_adapter(const Registry& registry, std::shared_ptr<Backbone> backbone, const HfAdapter& adapter,
                                 bool head_may_train = true);

/// Loads `adapter`'s tensors into `model`, whose method was built from adapter.method (after the same checks).
void load_hf_adapter_tensors(AdaptedModel& model, const HfAdapter& adapter);

/// adapter.method as `--set` assignments (`method.plugin="lora"`, `method.options.r=4`, `method.targets=[...]`), for
/// a run that starts from the adapter (`peft run --init-adapter`). A recipe [method] table that says anything but
/// the same plugin is refused, naming the key: the run would not be the method the recipe says.
std::vector<std::string> hf_adapter_overrides(const HfAdapter& adapter, const Recipe& recipe);

}  // namespace peft
