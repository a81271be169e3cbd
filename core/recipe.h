#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peft/options.h"
#include "train/train_options.h"

namespace peft {

/// A recipe table read as option values, with where each was written; checked later against a declaration.
struct RecipeTable {
  std::map<std::string, OptionValue> options;
  /// "recipe.toml:14 [backbone]" for each option key, for messages.
  std::map<std::string, std::string> option_contexts;
  /// "recipe.toml [backbone]", for messages about the table as a whole.
  std::string context;
};

/// A `[backbone]` or `[method]` table: which plugin, and the plugin's own options.
struct PluginSection : RecipeTable {
  std::string plugin;
  /// Where the plugin's own options are written, when not in the table itself: "recipe.toml [method.options]".
  std::string options_context;

  /// The context for messages about the plugin's options.
  const std::string& options_where() const { return options_context.empty() ? context : options_context; }
};

struct BackboneSection : PluginSection {
  /// Resolved against the recipe's folder.
  std::optional<std::filesystem::path> checkpoint;
  /// `head = "keep"`: a checkpoint head whose size fits the data is kept (timm); "new": always a fresh head.
  std::string head = "keep";

  /// The Hugging Face model folder a `config` option (a config.json, resolved against the recipe's folder) names:
  /// where a model made from its config alone finds its tokenizer, and what `peft merge` writes a folder like.
  std::optional<std::filesystem::path> config_folder() const;
};

struct MethodSection : PluginSection {
  std::vector<std::string> targets;
  std::vector<std::string> exclude;
};

/// The `[sweep]` table: a grid over recipe keys, tuned on one pair of splits, the best rerun on the final pair.
struct SweepSection {
  /// Dotted recipe key → its values as TOML text (`--set key=value` ready), in the order written.
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  std::string tune_train_split = "train800";
  std::string tune_eval_split = "val200";
  std::string final_train_split = "train800val200";
  std::string final_eval_split = "test";
  /// Seeds every configuration runs with (default: the recipe's seed).
  std::vector<std::int64_t> seeds;
  /// Seeds of the final runs (default: `seeds`): tune on one seed, report the selection over several.
  std::vector<std::int64_t> final_seeds;
  /// The metric that selects the configuration (default: the task's primary one), and where it was written.
  std::string metric;
  std::string metric_context;
};

/// A TOML recipe (`schema_version = 1`). `[train]` and `[output]` are checked here; the plugin tables and `[data]`
/// against their declarations when used.
struct Recipe {
  std::filesystem::path file;
  /// The run's name; default: the recipe file's stem.
  std::string name;
  std::uint64_t seed = 0;
  /// "auto" (CUDA when available), "cpu", "cuda", "cuda:N".
  std::string device = "auto";
  /// Intra-op threads; 0 = all cores.
  std::int64_t threads = 0;
  /// `task = "..."`: what the run learns (a registered task); empty: image_classification for a backbone that reads
  /// images. `task_context` says where it was written.
  std::string task;
  std::string task_context;
  BackboneSection backbone;
  std::optional<MethodSection> method;
  /// The `[data]` table (see data/data_plan.h for its keys).
  std::optional<RecipeTable> data;
  std::optional<SweepSection> sweep;
  RecipeTable train_table;
  TrainOptions train;
  OutputOptions output;
  /// The recipe as TOML after `--set`, with input paths made absolute and `[train]`/`[output]` defaults filled in:
  /// what a run folder keeps (`recipe.toml`) and `--resume` reads back.
  std::string resolved_toml;
};

/// The `[data] root` a recipe names, relative paths taken from the recipe's folder (as the tasks read it); nothing
/// when the recipe has no `[data]` table or no string root.
std::optional<std::filesystem::path> data_root(const Recipe& recipe);

/// Parses `file`, then applies `overrides` (`--set key=value`): `key` is a dotted path (`backbone.variant`,
/// `method.options.r`, `train.lr`), `value` is TOML (`5e-4`, `true`, `["attn.qkv"]`, `"text"`), or taken as a plain
/// string when it is not (`backbone.variant=vit_small_patch16_224`). A TOML syntax error, a missing or unknown key,
/// or a value of the wrong type is a peft::Error naming the file and line, or the `--set` that gave it. `more` are
/// assignments applied after `overrides` and named `more_source` in messages (a sweep's grid: "recipe.toml [sweep]
/// grid").
Recipe load_recipe(const std::filesystem::path& file, const std::vector<std::string>& overrides = {},
                   const std::vector<std::string>& more = {}, const std::string& more_source = "");

/// `key=value` assignments as plugin options (`peft test-plugin --option r=4`): `value` is TOML or a plain string,
/// as for `--set`; a key given twice keeps the last. A value that is no option value (a table, a mixed list) is a
/// peft::Error naming `source` and the key.
std::map<std::string, OptionValue> parse_option_assignments(const std::vector<std::string>& assignments,
                                                            const std::string& source);

}  // namespace peft
