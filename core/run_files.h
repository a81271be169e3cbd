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
/// With `[output] keep_epochs`: the adapter after each epoch (and epoch-000, before the first), for
/// `peft explain --epochs` (epoch_adapter_file in adapter_file.h names them).
inline constexpr const char* kEpochsFolder = "epochs";
/// Marks a folder as a run folder peft made, and is the file its lock is taken on (core/run_folder.h).
inline constexpr const char* kRunMarkerFile = ".peft-run";

/// The files of a run folder that are peft's own: what `--overwrite` may remove, and nothing else.
inline constexpr const char* kRunFiles[] = {kRecipeFile,         kMetricsFile,       kSummaryFile,      kCheckpointFile,
                                            kAdapterTensorsFile, kAdapterConfigFile, kAdapterRecordFile};

}  // namespace peft
