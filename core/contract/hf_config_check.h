#pragma once
// The contract check on a method's Hugging Face peft adapter_config.json (one with `peft_type`): what other tools
// read from it must be what peft trained.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "adapted_model.h"
#include "peft/batch.h"
#include "peft/registry.h"

namespace peft::contract {

/// Whether `folder`'s adapter_config.json (as save_adapter wrote it) claims a Hugging Face peft type.
bool has_hf_config(const std::filesystem::path& folder);

/// Empty when the Hugging Face peft config save_adapter wrote into `folder` for `model` names only modules of its
/// backbone (target_modules, modules_to_save, feedforward_modules) and, for a LORA or IA3 config, reads back by
/// peft's rules (hf_adapter/) onto `fresh()` as a model whose outputs on `batch` are `expected`; else what is wrong.
std::string hf_config_holds(const std::filesystem::path& folder, const AdaptedModel& model, const Registry& methods,
                            const std::function<std::shared_ptr<Backbone>()>& fresh, const Batch& batch,
                            bool head_trains, const at::Tensor& expected);

}  // namespace peft::contract
