#pragma once
// The names of the files peft writes into a run folder, in one place.

namespace peft {

inline constexpr const char* kRecipeFile = "recipe.toml";
inline constexpr const char* kMetricsFile = "metrics.jsonl";
inline constexpr const char* kSummaryFile = "summary.json";
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";
inline constexpr const char* kAdapterTensorsFile = "adapter_model.safetensors";
inline constexpr const char* kAdapterConfigFile = "adapter_config.json";
inline constexpr const char* kAdapterRecordFile = "peft_adapter.json";

}  // namespace peft
