
#include <CLI/CLI.hpp>
#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "log/log.h"
#include "option_checks.h"
#include "peft/api.h"

namespace peft::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& global) {
  app.add_flag("--strict", global.strict, "Fail when any plugin is rejected instead of listing it and going on");
  app.add_option("--plugin-path", global.plugin_paths,
                 "Another folder to search for plugins (repeatable; searched after PEFT_PLUGIN_PATH)")
      ->type_name("DIR")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("-v,--verbose", global.verbose, "Log what peft does to stderr");
}

// The two ways eval and generate take several runs over one loaded backbone: more run folders after the first, or
// --adapter RUN:WEIGHT for a weighted combination. `shared` says what the runs must have in common.
void add_several_runs(CLI::App* app, std::vector<std::filesystem::path>& more_runs, std::vector<std::string>& adapters,
                      const std::string& shared) {
  app->add_option("--adapter", adapters,
                  "RUN:WEIGHT (repeatable, instead of RUN_DIR): the runs' LoRA or GIFT adapters combined as "
                  "W + sum of WEIGHT * B A over one backbone; or one adapter folder Hugging Face peft saved "
                  "(LoRA, DoRA, IA3) on the recipe's or model folder's backbone")
      ->type_name("RUN:WEIGHT|HF_ADAPTER_DIR");
  app->add_option("more_runs", more_runs,
                  "More run folders on " + shared + ": each one's adapters over the one loaded backbone")
      ->type_name("RUN_DIR...");
}

void configure_logging(const GlobalOptions& global) { log::configure(global.verbose); }

}  // namespace

std::vector<std::string> child_arguments(const GlobalOptions& global) {
  std::vector<std::string> arguments;
  if (global.strict) arguments.push_back("--strict");
  for (const auto& path : global.plugin_paths) arguments.insert(arguments.end(), {"--plugin-path", path.string()});
  return arguments;
}

int run_command_line(int argc, char** argv) {
  CLI::App app{"peft: parameter-efficient fine-tuning (GIFT, LoRA, TOAST, VPT, ...) of pretrained transformers",
               "peft"};
  app.set_version_flag("--version", [] { return std::string("peft ") + PEFT_SDK_VERSION; });
  app.require_subcommand(0, 1);
  app.fallthrough();
  GlobalOptions global;
  add_global_options(app, global);

  ListOptions list;
  auto* list_app = app.add_subcommand("list", "List the method and backbone plugins found, and any rejected ones");
  list_app->add_flag("--json", list.json, "Print one JSON object instead of a table");
  list_app->add_flag("--options", list.options, "Also list each plugin's recipe options: name, type, default, meaning");

  VersionOptions version;
  auto* version_app = app.add_subcommand("version", "Print the versions of peft, its plugin API and LibTorch");
  version_app->add_flag("--json", version.json, "Print one JSON object");

  InspectOptions inspect;
  auto* inspect_app = app.add_subcommand(
      "inspect", "Show the sites a recipe's targets select, their shapes and parameter counts, before training");
  inspect_app->add_option("recipe", inspect.recipe, "The recipe (TOML); or describe the model with the flags below")
      ->type_name("RECIPE");
  inspect_app->add_option("--backbone", inspect.backbone, "Backbone plugin (overrides the recipe's)")
      ->type_name("PLUGIN");
  inspect_app->add_option("--variant", inspect.variant, "Backbone variant, e.g. vit_base_patch16_224")
      ->type_name("NAME");
  inspect_app->add_option("--checkpoint", inspect.checkpoint, "Checkpoint to load (safetensors)")->type_name("FILE");
  inspect_app->add_option("--targets", inspect.targets, "Target pattern (repeatable; overrides the recipe's)")
      ->type_name("PATTERN")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  inspect_app->add_option("--exclude", inspect.exclude, "Exclude pattern (repeatable; overrides the recipe's)")
      ->type_name("PATTERN")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  inspect_app
      ->add_option("--set", inspect.overrides, "Override a recipe key: --set backbone.variant=vit_small_patch16_224")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  inspect_app->add_flag("--json", inspect.json, "Print one JSON object");

  RunCommandOptions run;
  auto* run_app = app.add_subcommand("run", "Train a recipe into its run folder (or resume one)");
  run_app->add_option("recipe", run.recipe, "The recipe (TOML)")->type_name("RECIPE");
  run_app->add_option("--set", run.overrides, "Override a recipe key: --set train.lr=5e-4")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run_app->add_option("--resume", run.resume, "Continue the run in this folder from its last checkpoint")
      ->type_name("RUN_DIR");
  run_app->add_flag("--overwrite", run.overwrite, "Replace the run folder if it exists");
  run_app
      ->add_option("--init-adapter", run.init_adapter,
                   "Start from an adapter Hugging Face peft saved (LoRA, DoRA, IA3): its method, options and targets "
                   "replace the recipe's [method], its tensors the initialisation")
      ->type_name("HF_ADAPTER_DIR");
  run_app->add_option("--out", run.out, "The run folder (instead of the recipe's [output] dir)")->type_name("DIR");
  run_app
      ->add_option("--nproc", run.nproc,
                   "Train data-parallel in N local processes (as torchrun --nproc_per_node N; batch_size stays the "
                   "global batch); at most one a core unless --oversubscribe")
      ->type_name("N")
      ->check(CLI::Range(1, 4096));
  run_app->add_flag("--oversubscribe", run.oversubscribe,
                    "Allow --nproc above the number of cores (each process then competes for one)");
  run_app->add_option("--stop-after", run.stop_after, "Stop after this many epochs in all (resume later)")
      ->type_name("EPOCHS");

  GenerateCommandOptions generate;
  auto* generate_app = app.add_subcommand(
      "generate", "Continue a prompt with a run's model or a Hugging Face model folder (greedy unless --temperature)");
  generate_app->add_option("model", generate.model, "A run folder, or a model folder with config.json")
      ->type_name("RUN_DIR|MODEL_DIR");
  add_several_runs(generate_app, generate.more_runs, generate.adapters, "the same backbone");
  auto* prompt_option = generate_app->add_option("--prompt", generate.prompt, "The text to continue");
  generate_app
      ->add_option("--prompt-file", generate.prompt_file, "Read the prompt from FILE (- for standard input) instead")
      ->type_name("FILE")
      ->excludes(prompt_option);
  generate_app
      ->add_option("--max-new-tokens", generate.generate.max_new_tokens, "At most this many new tokens (default 64)")
      ->check(CLI::PositiveNumber);
  generate_app->add_option("--temperature", generate.generate.temperature, "0: greedy (default); above: sampling")
      ->check(finite_number_in(0.0, 100.0));
  generate_app
      ->add_option("--top-p", generate.generate.top_p, "Nucleus sampling: keep this much probability (default 1)")
      ->check(finite_number_in(0.0, 1.0, true));
  generate_app->add_option("--seed", generate.generate.seed, "Sampling seed (default 0)")
      ->check(non_negative_integer());
  generate_app->add_flag("--raw", generate.raw,
                         "Give the model the prompt as typed, not inside the run's data template (Alpaca's prompt)");
  generate_app->add_flag("--no-cache", generate.no_cache, "Re-run the whole sequence each step (slow; for checks)");
  generate_app->add_flag("--json", generate.json, "Print one JSON object: text and token ids");
  EvalCommandOptions eval;
  auto* eval_app = app.add_subcommand(
      "eval",
      "Evaluate a finished run's model, or a recipe's backbone or --checkpoint, on a split: the task's metrics (top-1 "
      "and loss for images)");
  eval_app
      ->add_option("run", eval.run,
                   "The run folder, or a recipe: its backbone as it loads, with no method (a plain or merged "
                   "checkpoint)")
      ->type_name("RUN_DIR|RECIPE");
  add_several_runs(eval_app, eval.more_runs, eval.adapters, "the same backbone and data");
  eval_app
      ->add_option("--checkpoint", eval.checkpoint,
                   "With a recipe: evaluate this checkpoint (a file, e.g. peft merge's, or a model folder) instead")
      ->type_name("FILE|DIR");
  eval_app->add_option("--split", eval.split, "The split (default: the recipe's eval_split)")->type_name("NAME");
  eval_app
      ->add_option("--set", eval.overrides,
                   "Override a key of the run's recipe, as peft run takes it: --set train.eval_batch_size=8")
      ->type_name("KEY=VALUE");
  eval_app->add_flag("--json", eval.json, "Print one JSON object");
  eval_app->add_flag("--base", eval.base,
                     "The backbone without the run's adapters (what the method started from; a new head untrained)");

  MergeCommandOptions merge;
  auto* merge_app =
      app.add_subcommand("merge",
                         "Write the backbone with a run's adapters merged in: a plain checkpoint, or a Hugging Face "
                         "model folder for a language model loaded from one");
  merge_app->add_option("run", merge.run, "The run folder")->required()->type_name("RUN_DIR");
  merge_app
      ->add_option("-o,--output", merge.output,
                   "The merged checkpoint (safetensors), or the model folder (a run on a model folder)")
      ->required()
      ->type_name("FILE|DIR");
  merge_app
      ->add_option("--max-shard-size", merge.max_shard_size,
                   "A model folder's largest shard: 5GB (the default, as transformers), 500MB, 200MiB, bytes")
      ->type_name("SIZE");
  merge_app->add_flag("--overwrite", merge.overwrite,
                      "Replace FILE, or the files merge writes into DIR (never an input of the run)");

  ExportCommandOptions export_options;
  auto* export_app = app.add_subcommand(
      "export",
      "Write a run's adapters as a Hugging Face peft LoRA adapter (exact: W + B A is the run's weight), for "
      "PeftModel.from_pretrained and llama.cpp's convert_lora_to_gguf.py: LoRA and GIFT runs");
  export_app->add_option("run", export_options.run, "The run folder")->required()->type_name("RUN_DIR");
  export_app->add_option("-o,--output", export_options.output, "The adapter folder to write")
      ->required()
      ->type_name("DIR");
  export_app->add_flag("--overwrite", export_options.overwrite,
                       "Replace the files export writes into DIR (never an input of the run)");

  TestPluginCommandOptions test_plugin;
  auto* test_plugin_app = app.add_subcommand(
      "test-plugin",
      "Run the method contract suite on plugins (starts equal to the backbone, trains only its own tensors, merged "
      "equals unmerged, save/load round-trips) on a tiny ViT, an MLP without taps and a tiny causal LM");
  test_plugin_app->add_option("paths", test_plugin.paths, "Plugin files or folders (default: every installed method)")
      ->type_name("PLUGIN");
  test_plugin_app->add_option("--method", test_plugin.methods, "Only this method (repeatable)")->type_name("NAME");
  test_plugin_app
      ->add_option("--option", test_plugin.options,
                   "KEY=VALUE (repeatable): a method option instead of its default, as [method.options] takes it "
                   "(one method only)")
      ->type_name("KEY=VALUE");
  test_plugin_app->add_flag("--json", test_plugin.json, "Print one JSON object: every check and how it went");
  test_plugin_app
      ->add_option("--adapter-configs", test_plugin.adapter_configs,
                   "Also write each method's adapter_config.json on each fixture backbone into DIR/METHOD/BACKBONE "
                   "(a new or empty folder), for Hugging Face peft to check: scripts/check_adapter_configs.py DIR")
      ->type_name("DIR");

  ExplainCommandOptions explain;
  auto* explain_app = app.add_subcommand(
      "explain", "Draw a finished run's cluster maps (GIFT) over test images: PNG sheets and the raw maps");
  explain_app->add_option("run", explain.run, "The run folder")->required()->type_name("RUN_DIR");
  explain_app->add_option("--split", explain.explain.split, "Images from this split (default: the recipe's eval_split)")
      ->type_name("NAME");
  explain_app->add_option("--per-class", explain.explain.per_class, "Images per class from the split")
      ->capture_default_str();
  explain_app->add_option("--images", explain.explain.images, "Image files instead of a split")
      ->type_name("FILE")
      ->expected(1, 1000);
  explain_app->add_option("--layers", explain.explain.layers, "Sites to explain, as selector patterns (default: all)")
      ->type_name("PATTERN")
      ->expected(1, 1000);
  explain_app->add_option("--top", explain.explain.top, "Maps per layer on a sheet (the most distinct from each other)")
      ->capture_default_str();
  explain_app
      ->add_option("--normalize", explain.explain.normalize,
                   "minmax (then zero what is below the threshold; the official visualiser's) | zscore")
      ->capture_default_str();
  explain_app->add_option("--threshold", explain.explain.threshold, "minmax threshold")->capture_default_str();
  explain_app->add_flag("--frozen,!--no-frozen", explain.explain.frozen,
                        "Also the maps of the frozen weights W alone (default; --no-frozen: W + dW only)");
  explain_app
      ->add_option("--epochs", explain.explain.epochs,
                   "Cluster development: the same maps from each kept epoch's adapter ([output] keep_epochs), "
                   "'all' or a list like 0,5,20; a sheet per image and layer, rows = epochs (W + dW)")
      ->type_name("all|LIST");
  explain_app
      ->add_option("-o,--out", explain.explain.out,
                   "Output folder (default: RUN_DIR/explain, RUN_DIR/explain/epochs with --epochs)")
      ->type_name("DIR");
  explain_app->add_flag("--overwrite", explain.explain.overwrite,
                        "Write into a given -o folder that holds files (same names replaced, nothing removed)");

  SweepCommandOptions sweep;
  auto* sweep_app = app.add_subcommand("sweep",
                                       "Tune a recipe's [sweep] grid on its tuning splits (train800 -> val200), then "
                                       "run the best on the final ones (train800val200 -> test)");
  sweep_app->add_option("recipe", sweep.recipe, "The recipe (TOML) with a [sweep] table")
      ->required()
      ->type_name("RECIPE");
  sweep_app->add_option("--set", sweep.overrides, "Override a recipe key for every trial")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sweep_app->add_option("--out", sweep.out, "The sweep folder (default: runs/<name>-sweep)")->type_name("DIR");
  sweep_app->add_flag("--collect", sweep.collect, "Train no trial: read their results, select, run the final");
  sweep_app->add_option("--emit", sweep.emit, "slurm: write a SLURM job-array script (one task per trial) instead")
      ->check(CLI::IsMember({"slurm"}));
  sweep_app
      ->add_option("--nproc", sweep.nproc,
                   "With --emit slurm: each trial a data-parallel run of N SLURM tasks (srun, #SBATCH --ntasks=N)")
      ->check(CLI::Range(1, 4096))
      ->type_name("N");
  sweep_app
      ->add_option("-j,--jobs", sweep.jobs,
                   "Trials trained at once, as child `peft run`s splitting the recipe's threads between them")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();

  ReportCommandOptions report;
  auto* report_app = app.add_subcommand(
      "report", "PNG plots (curves; accuracy against parameters) and an HTML page for a run, sweep or bench folder");
  report_app->add_option("dir", report.dir, "A run folder, a sweep folder or any folder of runs")
      ->required()
      ->type_name("DIR");
  report_app->add_option("-o,--out", report.out, "Output folder (default: DIR/report)")->type_name("DIR");
  report_app->add_flag("--overwrite", report.overwrite,
                       "Write into a given -o folder that holds files (same names replaced, nothing removed)");

  auto* data_app = app.add_subcommand("data", "Build datasets");
  data_app->require_subcommand(1);
  MiniVtabCommandOptions mini_vtab;
  auto* mini_vtab_app = data_app->add_subcommand(
      "mini-vtab", "Build the mini-vtab benchmark (pretraining set + 5 VTAB-style tasks) from Fashion-MNIST");
  mini_vtab_app->add_option("--out", mini_vtab.out, "Output folder")->required()->type_name("DIR");
  mini_vtab_app->add_flag("--overwrite", mini_vtab.overwrite,
                          "Write into an --out folder that holds files (same names replaced, nothing removed)");
  mini_vtab_app->add_option("--seed", mini_vtab.seed, "Seed: the same seed gives byte-identical files")
      ->capture_default_str();
  mini_vtab_app->add_option("--source", mini_vtab.source, "Folder with the Fashion-MNIST IDX files")
      ->capture_default_str()
      ->type_name("DIR");
  mini_vtab_app
      ->add_option("--pretrain-images", mini_vtab.pretrain_images,
                   "Pretraining images from classes 0-4 (at most 30000)")
      ->capture_default_str();
  mini_vtab_app->add_option("--test-images", mini_vtab.test_images, "Test images per downstream task (at most 2000)")
      ->capture_default_str();

  MiniLmCommandOptions mini_lm;
  auto* mini_lm_app = data_app->add_subcommand(
      "mini-lm", "Build the mini-lm benchmark (pretraining corpus + 3 text tasks) from Debian's fortunes");
  mini_lm_app->add_option("--out", mini_lm.out, "Output folder")->required()->type_name("DIR");
  mini_lm_app->add_flag("--overwrite", mini_lm.overwrite,
                        "Write into an --out folder that holds files (same names replaced, nothing removed)");
  mini_lm_app->add_option("--seed", mini_lm.seed, "Seed: the same seed gives byte-identical files")
      ->capture_default_str();
  mini_lm_app->add_option("--source", mini_lm.source, "Folder with the fortune files")
      ->capture_default_str()
      ->type_name("DIR");

  TokenizeCommandOptions tokenize;
  auto* tokenize_app = app.add_subcommand(
      "tokenize", "Print the token ids of texts (or the text of ids) as a model folder's tokenizer.json gives them");
  tokenize_app->add_option("model", tokenize.model, "Model folder with tokenizer.json, or the file itself")
      ->required()
      ->type_name("DIR");
  tokenize_app->add_option("--text", tokenize.texts, "A text to encode (repeatable)")->type_name("TEXT");
  tokenize_app->add_option("--file", tokenize.file, "Encode each line (\\n, \\t, \\r, \\\\ escaped)")
      ->type_name("FILE");
  tokenize_app->add_flag("--special", tokenize.special, "Add the model's special tokens (BOS, …) around each text");
  tokenize_app->add_option("--decode", tokenize.decode, "Print the text of these ids instead")->type_name("1,2,3");
  tokenize_app->add_flag("--keep-special", tokenize.keep_special, "With --decode: keep special tokens");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "peft: error: " << e.what() << " (see 'peft --help')\n";
    return kUserError;
  }
  configure_logging(global);

  if (list_app->parsed()) return run_list_command(global, list);
  if (version_app->parsed()) return run_version_command(version);
  if (inspect_app->parsed()) return run_inspect_command(global, inspect);
  if (mini_vtab_app->parsed()) return run_mini_vtab_command(mini_vtab);
  if (mini_lm_app->parsed()) return run_mini_lm_command(mini_lm);
  if (run_app->parsed()) return run_run_command(global, run);
  if (eval_app->parsed()) return run_eval_command(global, eval);
  if (generate_app->parsed()) {
    generate.prompt_given = prompt_option->count() > 0;
    return run_generate_command(global, generate);
  }
  if (merge_app->parsed()) return run_merge_command(global, merge);
  if (export_app->parsed()) return run_export_command(global, export_options);
  if (explain_app->parsed()) return run_explain_command(global, explain);
  if (sweep_app->parsed()) return run_sweep_command(global, sweep);
  if (report_app->parsed()) return run_report_command(report);
  if (test_plugin_app->parsed()) return run_test_plugin_command(global, test_plugin);
  if (tokenize_app->parsed()) return run_tokenize_command(tokenize);
  std::cout << app.help();
  return kSuccess;
}

}  // namespace peft::cli
