#pragma once
// The subcommands of `peft`. Each takes plain option structs; only command_line.cpp sees CLI11, whose inline code
// costs ~4 s of compile time in every file that includes it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "explain.h"
#include "generate.h"

namespace peft::cli {

/// Options every subcommand shares.
struct GlobalOptions {
  bool strict = false;
  bool verbose = false;
  std::vector<std::filesystem::path> plugin_paths;
};

/// The global options a child `peft` (a sweep trial, a data-parallel worker) is given so that it finds the same
/// plugins the same way: `--strict`, `--plugin-path P`...
std::vector<std::string> child_arguments(const GlobalOptions& global);

struct ListOptions {
  bool json = false;
  /// Also print each loaded plugin's recipe options (always in --json).
  bool options = false;
};

struct VersionOptions {
  bool json = false;
};

struct InspectOptions {
  std::filesystem::path recipe;
  std::string backbone;
  std::string variant;
  std::filesystem::path checkpoint;
  std::vector<std::string> targets;
  std::vector<std::string> exclude;
  /// `key=value` recipe overrides.
  std::vector<std::string> overrides;
  bool json = false;
};

struct MiniLmCommandOptions {
  std::filesystem::path out;
  std::filesystem::path source = "/usr/share/games/fortunes";
  std::uint64_t seed = 0;
  bool overwrite = false;
};

struct MiniVtabCommandOptions {
  std::filesystem::path out;
  bool overwrite = false;
  std::filesystem::path source = "/usr/share/datasets/fashion-mnist";
  std::uint64_t seed = 0;
  std::int64_t pretrain_images = 30000;
  std::int64_t test_images = 1000;
};

struct RunCommandOptions {
  std::filesystem::path recipe;
  std::vector<std::string> overrides;
  std::filesystem::path resume;
  bool overwrite = false;
  std::filesystem::path out;
  /// 0: run every epoch.
  std::int64_t stop_after = 0;
  /// Data-parallel worker processes to start here (0: this process trains, alone or as a launched rank).
  int nproc = 0;
  /// Allows more worker processes than cores.
  bool oversubscribe = false;
  /// An adapter folder Hugging Face peft saved, to start from.
  std::filesystem::path init_adapter;
};

struct EvalCommandOptions {
  /// A run folder, or a recipe file (its backbone with no method).
  std::filesystem::path run;
  /// `--set KEY=VALUE` over the run's (or the recipe's) recipe, as peft run takes them.
  std::vector<std::string> overrides;
  /// More run folders: each run's adapters over the first's loaded backbone, switched without reloading it.
  std::vector<std::filesystem::path> more_runs;
  /// `RUN:WEIGHT`: a weighted combination of runs' low-rank adapters instead.
  std::vector<std::string> adapters;
  /// With a recipe: this checkpoint (a file or a model folder) instead of the recipe's.
  std::optional<std::filesystem::path> checkpoint;
  std::string split;
  bool json = false;
  bool base = false;
};

struct GenerateCommandOptions {
  std::filesystem::path model;
  /// More run folders: each one's adapters over the first's loaded backbone, the same prompt and settings.
  std::vector<std::filesystem::path> more_runs;
  /// `RUN:WEIGHT`: a weighted combination of runs' low-rank adapters instead.
  std::vector<std::string> adapters;
  std::string prompt;
  /// Where the prompt is instead ("-": standard input), for prompts past the shell's argument limit.
  std::string prompt_file;
  /// Whether --prompt was given (an empty prompt is one: generation from BOS alone).
  bool prompt_given = false;
  /// The prompt as given, without the run's data template around it.
  bool raw = false;
  /// The template applied to the prompt ("alpaca"), set by the command; empty when none.
  std::string template_name;
  GenerateOptions generate;
  bool no_cache = false;
  bool json = false;
};

struct MergeCommandOptions {
  std::filesystem::path run;
  std::filesystem::path output;
  bool overwrite = false;
  /// A model folder's largest shard ("5GB", transformers' default).
  std::string max_shard_size = "5GB";
};

struct ExportCommandOptions {
  std::filesystem::path run;
  std::filesystem::path output;
  bool overwrite = false;
};

struct ExplainCommandOptions {
  std::filesystem::path run;
  ExplainOptions explain;
};

struct SweepCommandOptions {
  std::filesystem::path recipe;
  std::vector<std::string> overrides;
  std::filesystem::path out;
  bool collect = false;
  /// "slurm": write a job-array script instead of training.
  std::string emit;
  /// Trials trained at once (child processes sharing the cores).
  std::size_t jobs = 1;
  /// With emit = "slurm": processes of each trial's data-parallel run (1: one process).
  int nproc = 1;
};

struct TestPluginCommandOptions {
  /// Plugin files or folders of them; none: every method on the plugin search path.
  std::vector<std::filesystem::path> paths;
  /// Only these methods (default: every method the paths register).
  std::vector<std::string> methods;
  /// `key=value` method options over the defaults (one method only).
  std::vector<std::string> options;
  bool json = false;
  /// Also keep each method's adapter_config.json per fixture backbone here.
  std::filesystem::path adapter_configs;
};

struct ReportCommandOptions {
  std::filesystem::path dir;
  std::filesystem::path out;
  bool overwrite = false;
};

struct TokenizeCommandOptions {
  /// A model folder with tokenizer.json, or the tokenizer.json itself.
  std::filesystem::path model;
  std::vector<std::string> texts;
  /// One text per line, `\n`, `\t`, `\r` and `\\` escaped.
  std::filesystem::path file;
  bool special = false;
  /// Comma-separated ids to decode instead.
  std::string decode;
  bool keep_special = false;
};

/// Each returns the process exit code; user errors are thrown as peft::Error.
int run_list_command(const GlobalOptions& global, const ListOptions& options);
int run_version_command(const VersionOptions& options);
int run_inspect_command(const GlobalOptions& global, const InspectOptions& options);
int run_mini_vtab_command(const MiniVtabCommandOptions& options);
int run_mini_lm_command(const MiniLmCommandOptions& options);
int run_run_command(const GlobalOptions& global, const RunCommandOptions& options);
int run_eval_command(const GlobalOptions& global, const EvalCommandOptions& options);
int run_generate_command(const GlobalOptions& global, const GenerateCommandOptions& options);
int run_merge_command(const GlobalOptions& global, const MergeCommandOptions& options);
int run_export_command(const GlobalOptions& global, const ExportCommandOptions& options);
int run_explain_command(const GlobalOptions& global, const ExplainCommandOptions& options);
int run_sweep_command(const GlobalOptions& global, const SweepCommandOptions& options);
int run_report_command(const ReportCommandOptions& options);
int run_tokenize_command(const TokenizeCommandOptions& options);
int run_test_plugin_command(const GlobalOptions& global, const TestPluginCommandOptions& options);

/// Parses the command line and runs the subcommand it names.
int run_command_line(int argc, char** argv);

}  // namespace peft::cli
