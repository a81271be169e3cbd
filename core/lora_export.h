#pragma once
// `peft export`: a run's adapters as a Hugging Face peft LoRA adapter folder, for methods whose change to each site
// is an exact low-rank product (Method::low_rank_deltas: LoRA, and GIFT, whose generated ΔW = G Qᵀ is one).

#include <filesystem>

#include "peft/registry.h"

namespace peft {

/// Writes `output`/adapter_model.safetensors (`base_model.model.<site>.lora_A.weight` = A, `.lora_B.weight` = B,
/// float32, and the trained head as modules_to_save) and `output`/adapter_config.json (a LoraConfig with r the
/// factors' rank and lora_alpha = r, so peft's scale is 1 and W + B A is the run's weight exactly; target_modules,
/// task_type and base_model_name_or_path as a LoRA run writes them; a site whose rank differs from the first's
/// is in rank_pattern and alpha_pattern by its full name). A method without the capability is a peft::Error; so is
/// a non-empty `output` without `overwrite`, and one that is an input of the run. Returns the first site's rank.
std::int64_t export_lora(const Registry& registry, const std::filesystem::path& run_folder,
                         const std::filesystem::path& output, bool overwrite = false);

}  // namespace peft
