#pragma once
// The work behind `peft run`, `peft eval` and `peft merge`.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model_folder.h"
#include "output_paths.h"
#include "peft/registry.h"
#include "run_setup.h"
#include "train/evaluate.h"
#include "train/progress.h"

namespace peft {

struct RunRequest {
  std::filesystem::path recipe;
  std::vector<std::string> overrides;
  /// Continue the run in this folder from its checkpoint (the recipe is the one the folder kept).
  std::optional<std::filesystem::path> resume;
  /// Replace an existing run folder.
  bool overwrite = false;
  /// The run folder, instead of the recipe's [output] dir.
  std::optional<std::filesystem::path> out;
  /// Stop after this many epochs in all (resumable later).
  std::optional<std::int64_t> stop_after_epochs;
  /// Start from the adapter Hugging Face peft saved in this folder: its method, options and targets replace the
  /// recipe's [method] (which may name only the same plugin) and its tensors the method's initialisation.
  std::optional<std::filesystem::path> init_adapter;
};

/// What a finished (or stopped) run reports; `summary.json` holds the same and more.
struct RunReport {
  std::filesystem::path folder;
  bool stopped = false;
  std::int64_t epochs_done = 0;
  std::string eval_split;
  /// A validation split beside them in the data folder (a split whose name starts with val or dev and does not say
  /// train), to select on; empty when none is there.
  std::string validation_split;
  /// The task's metrics, its primary one and what an example is ("images").
  std::vector<MetricSpec> metrics;
  std::string primary_metric;
  std::string unit;
  Evaluation last_eval;
  /// The best evaluation of the primary metric and its epoch (-1 when none ran).
  std::optional<double> best_value;
  std::int64_t best_epoch = -1;
  std::int64_t trainable = 0;
  std::int64_t trainable_without_head = 0;
  std::int64_t backbone_parameters = 0;
  double wall_seconds = 0.0;
  /// All processes together.
  double examples_per_s = 0.0;
  /// Processes of a data-parallel run (1: one process).
  int world_size = 1;
};

/// Trains the recipe into its run folder: `recipe.toml` (resolved; with `init_adapter`, its [method] the adapter's),
/// `metrics.jsonl`, `checkpoint.safetensors` after
/// every epoch, and at the end the adapter files and `summary.json`. An existing folder is refused unless
/// `resume` or `overwrite`; a folder that cannot be written is a peft::Error naming it. In a data-parallel run (the
/// environment names a world: distributed/world.h) every rank calls it; rank 0 alone writes the folder.
RunReport run_training(const Registry& registry, const RunRequest& request, Progress& progress);

/// The run folder `request` trains into, its recipe read (and checked) as run_training reads it.
std::filesystem::path planned_run_folder(const RunRequest& request);

/// The head size a finished run recorded (peft_adapter.json), which rebuilds its model without its data.
std::int64_t recorded_num_classes(const std::filesystem::path& folder);

/// Throws a peft::Error unless `folder` is a finished run (its recipe.toml and adapter files).
void check_finished_run(const std::filesystem::path& folder);

/// A finished run's model: the recipe its folder kept, prepared, with its adapter files loaded. With `with_data`
/// the recipe's data is read (and `overrides` apply to the recipe); without, the head's size comes from
/// `peft_adapter.json`. Without `with_adapters` the adapter files stay unread (the model as training started it).
PreparedRun load_run(const Registry& registry, const std::filesystem::path& folder, bool with_data,
                     const std::vector<std::string>& overrides = {}, bool with_adapters = true);

/// The model of a finished run (its recipe and adapter files) evaluated on `split` (default: the recipe's eval
/// split).
struct EvalReport {
  std::string split;
  std::vector<MetricSpec> metrics;
  std::string unit;
  Evaluation evaluation;
};
/// `--split NAME` as the recipe override that sets `[data] eval_split` (none when `split` is empty).
std::vector<std::string> eval_split_override(const std::string& split);

/// `model` (over `prepared`'s backbone) scored on `prepared`'s eval split by its task.
EvalReport evaluate_on(PreparedRun& prepared, AdaptedModel& model);

/// With `base`, the run's adapter files are not loaded: the backbone as the method starts from it (every method
/// starts equal to its backbone; a new classifier head is the run's seeded initialisation, so chance level).
/// `overrides` are `--set` assignments over the run's recipe (eval_split_override's among them).
EvalReport evaluate_run(const Registry& registry, const std::filesystem::path& folder,
                        const std::vector<std::string>& overrides, bool base = false);

/// The recipe (with `overrides`) backbone as it loads, with no method, on its eval split: a plain or
/// merged checkpoint, named by `checkpoint` (a file or a model folder; default: the recipe's [backbone]
/// checkpoint). The recipe's [method] is not used. `notices` receives what building the backbone said (a head the
/// checkpoint did not have is new, and so untrained).
EvalReport evaluate_checkpoint(const Registry& registry, const std::filesystem::path& recipe,
                               const std::optional<std::filesystem::path>& checkpoint,
                               const std::vector<std::string>& overrides, std::vector<std::string>& notices);

/// The recipe (with `overrides`) backbone with the adapter Hugging Face peft saved in `adapter_folder`
/// (hf_adapter/hf_adapter.h), on its eval split. The recipe's [method] is not used.
EvalReport evaluate_hf_adapter(const Registry& registry, const std::filesystem::path& recipe,
                               const std::filesystem::path& adapter_folder, const std::vector<std::string>& overrides);

/// The backbone with the run's adapters merged, written as a plain backbone checkpoint (timm key names) to
/// `output`; a causal LM loaded from a Hugging Face model folder is written as such a folder instead
/// (write_model_folder: the checkpoint's dtypes, shards past `max_shard_bytes`, config and tokenizer copied). A method
/// that does not merge is a peft::Error giving its reason. `output` that exists (a folder: that is not empty) needs
/// `overwrite`; one that is an input of the run (its files, the backbone checkpoint, the data) is always refused.
void merge_run(const Registry& registry, const std::filesystem::path& folder, const std::filesystem::path& output,
               bool overwrite = false, std::uint64_t max_shard_bytes = kDefaultMaxShardBytes);

/// What a recipe reads, for commands that must not write over it: the recipe file, the backbone checkpoint (file or
/// hub folder), the data root.
std::vector<NamedPath> recipe_inputs(const Recipe& recipe);

/// recipe_inputs and the run folder's own files.
std::vector<NamedPath> run_inputs(const std::filesystem::path& folder, const Recipe& recipe);

}  // namespace peft
