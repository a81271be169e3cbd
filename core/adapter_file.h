#pragma once
// Adapter files: what a run keeps of a trained model, in Hugging Face peft's layout.
//
//   adapter_model.safetensors  the method's tensors and the trained head, keys `base_model.model.<name>`
//   adapter_config.json        the method's config (LoRA: peft's LoraConfig, with modules_to_save = the head)
//   peft_adapter.json          what peft needs to rebuild the model: method, options, sites, backbone, class count

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "adapted_model.h"
#include "peft/named_tensors.h"
#include "run_files.h"

namespace peft {

/// The prefix Hugging Face peft puts before module names in adapter files.
inline constexpr const char* kAdapterKeyPrefix = "base_model.model.";

/// The trained head's tensors, by plain name (`head.weight`, `score.weight`); none when the head is frozen.
NamedTensors head_tensors(const AdaptedModel& model);

/// The method's adapter state and the trained head, by plain name (`blocks.0.attn.qkv.lora_A.weight`, `head.weight`).
NamedTensors adapter_tensors(AdaptedModel& model);

/// `tensors` under Hugging Face peft's key names (kAdapterKeyPrefix), on the CPU and contiguous, as files hold them.
NamedTensors prefixed_for_file(const NamedTensors& tensors);

/// `adapter_config.json`'s text: `method_config` (a method's adapter_config_json()) and, for a Hugging Face peft
/// config (one with `peft_type`), the keys the host owns, set from the run whatever the method wrote:
/// `modules_to_save` (the trained head's modules, or null), `target_modules` (the sites the method is attached to),
/// `base_model_name_or_path` (the model folder of a causal LM, else the checkpoint file; absolute and normalised)
/// and `task_type` (CAUSAL_LM, SEQ_CLS with a new classifier head, null for a model transformers has no task for).
std::string adapter_config_text(const std::string& method_config, const AdaptedModel& model,
                                const std::optional<std::filesystem::path>& backbone_weights);

/// Loads what adapter_tensors() gave: head tensors into the head, the rest through the method. Strict; errors name
/// `source`.
void load_adapter_tensors(AdaptedModel& model, const NamedTensors& tensors, const std::string& source);

/// Writes the three files into `folder` (each atomically). `backbone_plugin` is recorded for `peft eval`.
/// `backbone_weights`, the checkpoint the backbone was loaded from, is recorded with its fingerprint so that a later
/// `peft eval`/`merge`/`explain` can tell it has changed (check_backbone_weights).
void save_adapter(const std::filesystem::path& folder, AdaptedModel& model, const std::string& backbone_plugin,
                  const std::optional<std::filesystem::path>& backbone_weights = std::nullopt);

/// Refuses (a peft::Error naming the file) a backbone checkpoint whose size or hash differs from the one the run in
/// `folder` recorded: the adapter applied to other weights would give other numbers without a word.
void check_backbone_weights(const std::filesystem::path& folder,
                            const std::optional<std::filesystem::path>& backbone_weights);

/// Refuses (a peft::Error naming the file and the key) a run's adapter_config.json that is missing, not a JSON
/// object, or disagrees with what `model`'s method and the run write (base_model_name_or_path aside: the record's
/// fingerprint checks the weights).
void check_adapter_config(const std::filesystem::path& folder, const AdaptedModel& model);

/// Loads `folder/adapter_model.safetensors` into `model`, after check_adapter_config.
void load_adapter(const std::filesystem::path& folder, AdaptedModel& model);

/// `folder/epochs/epoch-005.safetensors`: the adapter tensors (keys as in adapter_model.safetensors) a run with
/// `[output] keep_epochs` keeps after epoch 5; epoch 0 is the adapter before training.
std::filesystem::path epoch_adapter_file(const std::filesystem::path& folder, std::int64_t epoch);

/// True when `file` is named as epoch_adapter_file names them (or is a half-written temporary of one).
bool is_epoch_adapter_file(const std::filesystem::path& file);

/// Writes epoch_adapter_file(folder, epoch) atomically.
void save_epoch_adapter(const std::filesystem::path& folder, AdaptedModel& model, std::int64_t epoch);

/// The epochs whose adapters `folder` keeps, in order (empty when the run kept none).
std::vector<std::int64_t> kept_epochs(const std::filesystem::path& folder);

/// Loads epoch_adapter_file(folder, epoch) into `model`; strict, errors name the file.
void load_epoch_adapter(const std::filesystem::path& folder, std::int64_t epoch, AdaptedModel& model);

}  // namespace peft
