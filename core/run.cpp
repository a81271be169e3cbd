#include "run.h"

#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/cuda.h>

#include <chrono>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapter_file.h"
#include "distributed/communicator.h"
#include "distributed/world.h"
#include "hf_adapter/hf_adapter.h"
#include "json_values.h"
#include "peft/atomic_file.h"
#include "peft/build_tag.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "peft/strings.h"
#include "run_files.h"
#include "run_folder.h"
#include "run_setup.h"
#include "text_format.h"
#include "torch_errors.h"
#include "train/autocast.h"
#include "train/checkpoint.h"
#include "train/metrics_log.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

[[noreturn]] void output_error(const fs::path& folder, const std::string& what) {
  throw Error("output", "run folder " + folder.string() + ": " + what);
}

// A fresh run's folder, locked: a new or empty folder; a peft run folder whose run stopped before its first
// checkpoint (nothing to lose: it starts over); or, with --overwrite, a peft run folder cleared of peft's own files.
// Anything else is refused, and nothing is removed.
std::unique_ptr<RunFolderLock> prepare_folder(const fs::path& folder, bool overwrite, const Recipe& recipe,
                                              Progress& progress) {
  std::error_code error;
  if (fs::exists(folder, error) && !fs::is_directory(folder)) output_error(folder, "exists and is not a folder");
  const bool fresh = !fs::exists(folder, error) || fs::is_empty(folder, error);
  fs::create_directories(folder, error);
  if (error) output_error(folder, "cannot create it: " + error.message());
  if (fresh) return std::make_unique<RunFolderLock>(folder);
  if (!is_run_folder(folder)) {
    output_error(folder, overwrite ? std::string("is not a run folder peft made (it has no ") + kRunMarkerFile +
                                         "); --overwrite replaces only those (choose an empty or new folder)"
                                   : "already exists and is not a run folder (choose an empty or new folder)");
  }
  auto lock = std::make_unique<RunFolderLock>(folder);
  const bool nothing_to_lose = stopped_before_checkpoint(folder);
  if (!overwrite && !nothing_to_lose) {
    output_error(folder, "already exists (hint: peft run --resume " + folder.string() +
                             " to continue it, --overwrite to start over, or another [output] dir)");
  }
  const std::vector<std::string> kept = clear_run_folder(folder, recipe_inputs(recipe));
  if (nothing_to_lose && !overwrite) {
    progress.message("note: " + folder.string() +
                     " held a run that stopped before its first checkpoint: starting over");
  }
  if (!kept.empty()) progress.message("note: kept what is not peft's in " + folder.string() + ": " + join(kept));
  return lock;
}

// Keeps the metrics of completed epochs only: a resumed run appends from where its checkpoint stands.
// Keeps the records up to the checkpoint: whole epochs, and the step records of an epoch interrupted mid-way.
void trim_metrics(const fs::path& folder, const TrainingProgress& at) {
  std::ifstream in(folder / kMetricsFile);
  std::string kept;
  std::string line;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_object()) continue;  // a line cut short by a crash
    const bool done_epoch = record.value("epoch", std::int64_t{0}) <= at.epoch;
    const bool done_step = record.value("type", "") == "train" &&
                           record.value("global_step", std::numeric_limits<std::int64_t>::max()) <= at.global_step;
    if (done_epoch || done_step) kept += line + '\n';
  }
  write_text_atomically(folder / kMetricsFile, kept);
}

// Temporary files a killed process left half-written of peft's own files (their targets are intact); a user's
// `notes.tmp.42` has the same shape and stays.
void remove_partial_writes(const fs::path& folder) {
  const auto remove_in = [](const fs::path& where, bool (*own)(const fs::path&)) {
    for (const auto& entry : fs::directory_iterator(where)) {
      if (entry.is_regular_file() && is_atomic_temporary(entry.path()) && own(entry.path())) fs::remove(entry.path());
    }
  };
  remove_in(folder, is_own_run_file);
  std::error_code error;
  const fs::path epochs = folder / kEpochsFolder;
  if (fs::is_directory(epochs, error) && !fs::is_symlink(epochs, error)) remove_in(epochs, is_epoch_adapter_file);
}

// The adapter `peft run --init-adapter` starts from, read before anything else.
std::optional<HfAdapter> init_adapter_of(const RunRequest& request) {
  if (!request.init_adapter) return std::nullopt;
  if (request.resume) {
    throw Error("run", "--init-adapter starts a run; a resumed run continues from its own checkpoint");
  }
  return read_hf_adapter(*request.init_adapter);
}

Recipe recipe_of(const RunRequest& request, const HfAdapter* init = nullptr) {
  if (init != nullptr) {
    std::vector<std::string> overrides = request.overrides;
    for (auto& assignment : hf_adapter_overrides(*init, load_recipe(request.recipe, request.overrides))) {
      overrides.push_back(std::move(assignment));
    }
    return load_recipe(request.recipe, overrides);
  }
  if (!request.resume) return load_recipe(request.recipe, request.overrides);
  if (!request.overrides.empty()) {
    throw Error("run", "--set cannot change a run being resumed (it continues with the recipe it kept in " +
                           (*request.resume / kRecipeFile).string() + ")");
  }
  const fs::path kept = *request.resume / kRecipeFile;
  if (!fs::exists(kept)) {
    throw Error("run",
                "cannot resume " + request.resume->string() + ": it has no " + kRecipeFile + " (is it a run folder?)");
  }
  return load_recipe(kept);
}

double peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

nlohmann::json versions() {
  const BuildTag& tag = BuildTag::host();
  return {{"peft", PEFT_SDK_VERSION}, {"plugin_api", PEFT_API_VERSION}, {"torch", tag.get("torch")}};
}

// The task's metrics as summary.json lists them.
nlohmann::json metric_specs(const std::vector<MetricSpec>& specs) {
  nlohmann::json list = nlohmann::json::array();
  for (const MetricSpec& spec : specs) {
    list.push_back({{"name", spec.name}, {"higher_is_better", spec.higher_is_better}, {"percent", spec.percent}});
  }
  return list;
}

void write_summary(const PreparedRun& run, const RunReport& report, const TrainOutcome& outcome, std::int64_t skipped) {
  const AdaptedModel& model = run.model;
  nlohmann::json final_eval{{"epoch", outcome.last_eval_epoch},
                            {"split", report.eval_split},
                            {report.unit, report.last_eval.examples},
                            {"train_loss", outcome.progress.last_train_loss}};
  put_metrics(final_eval, report.last_eval.values);
  nlohmann::json best{{"epoch", report.best_epoch}, {"metric", report.primary_metric}};
  best[report.primary_metric] = report.best_value ? nlohmann::json(*report.best_value) : nlohmann::json();
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [key, value] : model.method_options.values()) options[key] = to_json(value);
  const std::string refusal = model.method->merge_refusal();
  const double backbone = static_cast<double>(report.backbone_parameters);
  const nlohmann::json summary{
      {"name", run.recipe.name},
      {"task", run.task.name},
      {"primary_metric", report.primary_metric},
      {"metrics", metric_specs(report.metrics)},
      {"backbone", run.recipe.backbone.plugin},
      {"method", model.method_name},
      {"method_options", options},
      {"sites", model.site_names.size()},
      {"num_classes", run.num_classes},
      {"epochs", report.epochs_done},
      {"final", final_eval},
      {"best", best},
      {"trainable_parameters",
       {{"total", report.trainable},
        {"without_head", report.trainable_without_head},
        {"head", report.trainable - report.trainable_without_head},
        {"backbone", report.backbone_parameters},
        {"percent_of_backbone", 100.0 * static_cast<double>(report.trainable) / backbone},
        {"percent_of_backbone_without_head", 100.0 * static_cast<double>(report.trainable_without_head) / backbone}}},
      {"mergeable", refusal.empty()},
      {"forward_passes", model.method->forward_passes()},
      {"adapter_bytes", fs::file_size(report.folder / kAdapterTensorsFile)},
      {"timing",
       {{"wall_seconds", report.wall_seconds},
        {"train_seconds", outcome.progress.train_seconds},
        {"train_" + report.unit + "_per_s", report.examples_per_s},
        {"all_reduce_seconds", outcome.all_reduce_seconds}}},
      {"peak_memory_mb", peak_memory_mb()},
      {"skipped_" + report.unit, skipped},
      {"device", run.device.str()},
      {"threads", at::get_num_threads()},
      {"world_size", report.world_size},
      {"versions", versions()}};
  write_text_atomically(report.folder / kSummaryFile, summary.dump(2) + "\n");
}

fs::path run_folder_of(const RunRequest& request, const Recipe& recipe) {
  return request.resume ? *request.resume
         : request.out  ? *request.out
                        : fs::path(recipe.output.dir.empty() ? "runs/" + recipe.name : recipe.output.dir);
}

// The data folder's split files (`<split>.txt`, `.jsonl`, `.json`) whose name says val or dev, neither the train nor
// the evaluation split: what a run that evaluates on test should select on instead.
std::string validation_split_of(const Recipe& recipe, const TaskData& data) {
  const auto folder = data_root(recipe);
  std::error_code error;
  if (!folder || !fs::is_directory(*folder, error)) return {};
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(*folder, error)) {
    const std::string extension = entry.path().extension().string();
    const std::string split = entry.path().stem().string();
    const bool split_file = extension == ".txt" || extension == ".jsonl" || extension == ".json";
    // val, val200, validation, dev, dev_clean; not train800val200, which holds training data.
    const bool validation =
        (split.rfind("val", 0) == 0 || split.rfind("dev", 0) == 0) && split.find("train") == std::string::npos;
    if (split_file && validation && split != data.train_split && split != data.eval_split) found.push_back(split);
  }
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // val before validation
  });
  return found.empty() ? std::string() : found.front();
}

}  // namespace

std::vector<NamedPath> recipe_inputs(const Recipe& recipe) {
  std::vector<NamedPath> inputs{{recipe.file, "the recipe"}};
  if (recipe.backbone.checkpoint) inputs.push_back({*recipe.backbone.checkpoint, "the backbone checkpoint"});
  if (const auto folder = recipe.backbone.config_folder()) {
    inputs.push_back({*folder, "the backbone's model folder (its config.json's)"});
  }
  if (const auto folder = data_root(recipe)) inputs.push_back({*folder, "the data"});
  return inputs;
}

std::vector<NamedPath> run_inputs(const fs::path& folder, const Recipe& recipe) {
  std::vector<NamedPath> inputs = recipe_inputs(recipe);
  for (const char* name : kRunFiles) inputs.push_back({folder / name, std::string("the run's ") + name});
  inputs.push_back({folder / kEpochsFolder, std::string("the run's per-epoch adapters ") + kEpochsFolder + "/"});
  inputs.push_back({folder / kRunMarkerFile, std::string("the run's ") + kRunMarkerFile});
  return inputs;
}

std::int64_t recorded_num_classes(const fs::path& folder) {
  std::ifstream in(folder / kAdapterRecordFile);
  const auto record = nlohmann::json::parse(in, nullptr, false);
  if (!record.is_object() || !record.contains("num_classes")) {
    throw Error("run", (folder / kAdapterRecordFile).string() + " is missing or has no num_classes");
  }
  return record["num_classes"].get<std::int64_t>();
}

void check_finished_run(const fs::path& folder) {
  if (!fs::exists(folder / kRecipeFile)) {
    throw Error("run", folder.string() + " is not a run folder (no " + kRecipeFile + ")");
  }
  if (!fs::exists(folder / kAdapterTensorsFile)) {
    throw Error("run", folder.string() + " has no " + kAdapterTensorsFile +
                           " (the run has not finished; peft run --resume " + folder.string() + " finishes it)");
  }
}

PreparedRun load_run(const Registry& registry, const fs::path& folder, bool with_data,
                     const std::vector<std::string>& overrides, bool with_adapters) {
  check_finished_run(folder);
  const fs::path recipe_file = folder / kRecipeFile;
  std::optional<std::int64_t> num_classes;
  if (!with_data) num_classes = recorded_num_classes(folder);
  PreparedRun run = prepare_run(registry, load_recipe(recipe_file, overrides), num_classes);
  check_backbone_weights(folder, run.backbone_weights);
  if (with_adapters) load_adapter(folder, run.model);
  return run;
}

fs::path planned_run_folder(const RunRequest& request) { return run_folder_of(request, recipe_of(request)); }

RunReport run_training(const Registry& registry, const RunRequest& request, Progress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::optional<HfAdapter> init = init_adapter_of(request);
  Recipe recipe = recipe_of(request, init ? &*init : nullptr);
  const World world = world_from_environment();
  RunReport report;
  report.world_size = world.size;
  report.folder = run_folder_of(request, recipe);
  if (request.stop_after_epochs && !recipe.output.checkpoint) {
    throw Error("run", "--stop-after needs checkpoints to resume from ([output] checkpoint = true)");
  }
  const std::string resolved = recipe.resolved_toml;
  const int cuda_devices = static_cast<int>(torch::cuda::device_count());
  if (world.distributed()) {
    recipe.threads = threads_per_process(world, recipe.threads);
    recipe.device = device_of_rank(world, recipe.device, cuda_devices);
  }
  const at::Device device = resolve_device(recipe.device);
  const std::string backend =
      resolve_backend(recipe.train.distributed_backend, device, world.local_size > std::max(1, cuda_devices));
  std::unique_ptr<Communicator> communicator;
  if (world.distributed()) {
    communicator =
        Communicator::connect(world, backend, device, std::chrono::seconds(recipe.train.distributed_timeout));
  }
  const bool writes = world.rank == 0;
  // Everything the recipe names is checked before the run folder is touched.
  PreparedRun run = prepare_run(registry, std::move(recipe));
  if (init) load_hf_adapter_tensors(run.model, *init);
  std::unique_ptr<RunFolderLock> lock;
  if (writes) {
    lock = request.resume ? std::make_unique<RunFolderLock>(report.folder)
                          : prepare_folder(report.folder, request.overwrite, run.recipe, progress);
  }
  // A run stopped before its first checkpoint resumes from the beginning: its recipe, a fresh start.
  const bool resume = request.resume && fs::exists(report.folder / kCheckpointFile);
  if (request.resume && !resume) {
    if (!stopped_before_checkpoint(report.folder)) {
      throw Error("run", report.folder.string() + " has no " + kCheckpointFile +
                             " to resume from: its run wrote none ([output] checkpoint = false) and finished "
                             "(hint: peft run --overwrite to train it again)");
    }
    progress.message("note: " + report.folder.string() +
                     " has no checkpoint yet (the run stopped before its first one): starting it from the beginning "
                     "with its " +
                     kRecipeFile);
  }
  for (const auto& notice : run.notices) progress.message("note: " + notice);
  const std::string precision_note = mixed_precision_note(run.recipe.train.mixed_precision, run.device);
  if (!precision_note.empty() && writes) progress.message("note: " + precision_note);
  if (init)
    progress.message("starting from the adapter in " + init->folder.string() + " (" + init->method.plugin + ")");
  AdaptedModel& model = run.model;
  report.trainable = model.trainable_count();
  report.trainable_without_head = report.trainable - model.head_count();
  report.backbone_parameters = model.backbone_count();
  const Task& task = *run.task.task;
  for (data::LoaderOptions* loader : {&run.data->train_loader, &run.data->eval_loader}) {
    loader->shard = world.rank;
    loader->shards = world.size;
  }
  data::Loader train_loader(run.data->data.train, run.data->train_loader);
  data::Loader eval_loader(run.data->data.eval, run.data->eval_loader);
  report.eval_split = run.data->data.eval_split;
  report.validation_split = validation_split_of(run.recipe, run.data->data);
  report.metrics = task.metrics();
  report.primary_metric = task.primary_metric();
  report.unit = task.unit();

  Optimizer optimizer(run.recipe.train, model.trainable);
  TrainingProgress start_at;
  // The other ranks read the run folder once rank 0 has made it ready.
  if (communicator) communicator->barrier("waiting for rank 0 to prepare the run folder");
  if (resume) {
    start_at = load_checkpoint(report.folder / kCheckpointFile, model, optimizer);
    if (start_at.epoch >= run.recipe.train.epochs && fs::exists(report.folder / kSummaryFile)) {
      throw Error("run", report.folder.string() + " has finished all " + std::to_string(start_at.epoch) +
                             " epochs (see its summary.json): nothing to resume");
    }
    if (writes) {
      trim_metrics(report.folder, start_at);
      remove_partial_writes(report.folder);
    }
    progress.message("resuming " + report.folder.string() + " after epoch " + std::to_string(start_at.epoch) +
                     (start_at.step_in_epoch > 0 ? ", step " + std::to_string(start_at.step_in_epoch) : ""));
  } else if (writes) {
    if (!request.resume) write_text_atomically(report.folder / kRecipeFile, resolved);
    write_text_atomically(report.folder / kMetricsFile, "");
    remove_partial_writes(report.folder);
  }
  if (communicator) {
    // Every rank starts from rank 0's tensors (the same seed made them equal; this makes sure).
    std::vector<at::Tensor> tensors;
    for (const auto& trainable : model.trainable) tensors.push_back(trainable.tensor.detach());
    communicator->broadcast(tensors, "broadcasting rank 0's trainable tensors");
    progress.message("data parallel: " + std::to_string(world.size) + " processes (" +
                     std::to_string(world.local_size) + " on this machine), " + std::to_string(at::get_num_threads()) +
                     " threads each, global batch " + std::to_string(run.recipe.train.batch_size));
  }
  if (const std::int64_t parts = run.recipe.train.gradient_accumulation_steps; parts > 1) {
    progress.message("gradient accumulation: each batch of " + std::to_string(run.recipe.train.batch_size) + " in " +
                     std::to_string(parts) + " micro-batches" + (communicator ? " per rank" : "") +
                     ", one optimizer step");
  }
  const std::string where =
      model.method->uses_sites() ? " on " + std::to_string(model.site_names.size()) + " sites: " : " (the head only): ";
  progress.message(model.method_name + where + with_thousands(report.trainable) + " trainable parameters (" +
                   with_thousands(report.trainable_without_head) + " without the head), " +
                   with_thousands(run.data->data.train->size()) + " training " + report.unit + ", " + run.device.str());

  TrainerSetup setup;
  setup.model = &model;
  setup.task = &task;
  setup.train_loader = &train_loader;
  setup.eval_loader = &eval_loader;
  setup.eval_split = report.eval_split;
  setup.options = run.recipe.train;
  setup.device = run.device;
  setup.folder = report.folder;
  setup.write_checkpoints = run.recipe.output.checkpoint;
  setup.keep_epochs = run.recipe.output.keep_epochs;
  setup.stop_after_epochs = request.stop_after_epochs;
  setup.progress = &progress;
  setup.communicator = communicator.get();
  setup.writes = writes;
  const TrainOutcome outcome = with_allocation_reported(
      "train",
      "training with [train] batch_size = " + std::to_string(run.recipe.train.batch_size) + " (micro-batches of " +
          std::to_string(run.data->train_loader.batch_size / run.data->train_loader.micro_batches) +
          ", evaluation batches of " + std::to_string(run.data->eval_loader.batch_size) + ")",
      "a smaller batch_size, gradient_accumulation_steps to split it, or a smaller eval_batch_size",
      [&] { return train(setup, optimizer, start_at); });

  report.stopped = outcome.stopped;
  report.epochs_done = outcome.progress.epoch;
  report.last_eval = outcome.last_eval;
  report.best_value = outcome.progress.best_value;
  report.best_epoch = outcome.progress.best_epoch;
  report.examples_per_s = outcome.examples_per_s;
  if (outcome.stopped || !writes) return report;
  save_adapter(report.folder, model, run.recipe.backbone.plugin, run.backbone_weights);
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_summary(run, report, outcome, train_loader.skipped() + eval_loader.skipped());
  return report;
}

std::vector<std::string> eval_split_override(const std::string& split) {
  if (split.empty()) return {};
  return {"data.eval_split=" + split};
}

EvalReport evaluate_on(PreparedRun& prepared, AdaptedModel& model) {
  const Task& task = *prepared.task.task;
  data::Loader loader(prepared.data->data.eval, prepared.data->eval_loader);
  const Evaluation evaluation = with_allocation_reported(
      "eval", "evaluating in batches of " + std::to_string(prepared.data->eval_loader.batch_size),
      "a smaller [train] eval_batch_size (peft eval --set train.eval_batch_size=N)",
      [&] { return evaluate(model, task, loader, prepared.device, prepared.recipe.train.mixed_precision); });
  return {prepared.data->data.eval_split, task.metrics(), task.unit(), evaluation};
}

EvalReport evaluate_run(const Registry& registry, const fs::path& folder, const std::vector<std::string>& overrides,
                        bool base) {
  PreparedRun run = load_run(registry, folder, true, overrides, !base);
  return evaluate_on(run, run.model);
}

EvalReport evaluate_checkpoint(const Registry& registry, const fs::path& recipe_file,
                               const std::optional<fs::path>& checkpoint, const std::vector<std::string>& overrides,
                               std::vector<std::string>& notices) {
  Recipe recipe = load_recipe(recipe_file, overrides);
  if (checkpoint) {
    std::error_code error;
    if (!fs::exists(*checkpoint, error)) {
      throw Error("eval", "--checkpoint " + checkpoint->string() +
                              " does not exist (expected a checkpoint file or "
                              "a model folder)");
    }
    recipe.backbone.checkpoint = fs::absolute(*checkpoint);
  }
  PreparedRun run = prepare_run(registry, std::move(recipe), std::nullopt, WithMethod::no);
  notices = run.notices;
  return evaluate_on(run, run.model);
}

EvalReport evaluate_hf_adapter(const Registry& registry, const fs::path& recipe_file, const fs::path& adapter_folder,
                               const std::vector<std::string>& overrides) {
  const HfAdapter adapter = read_hf_adapter(adapter_folder);
  PreparedRun run = prepare_run(registry, load_recipe(recipe_file, overrides), std::nullopt, WithMethod::no);
  const bool new_head = run.task.task->head_policy() == HeadPolicy::new_classifier;
  run.model = adapt_to_hf_adapter(registry, run.model.backbone, adapter, new_head);
  return evaluate_on(run, run.model);
}

void merge_run(const Registry& registry, const fs::path& folder, const fs::path& output, bool overwrite,
               std::uint64_t max_shard_bytes) {
  PreparedRun run = load_run(registry, folder, false);
  // A causal LM loaded from a Hugging Face model folder is merged into another such folder.
  std::optional<fs::path> model_folder;
  if (run.model_folder && run.model.backbone->causal_lm() != nullptr) {
    model_folder = run.model_folder;
    check_output_folder(output, overwrite, run_inputs(folder, run.recipe), "merge");
  } else {
    check_output_file(output, overwrite, run_inputs(folder, run.recipe), "merge");
  }
  const std::string refusal = run.model.method->merge_refusal();
  if (!refusal.empty()) throw Error("merge", "method '" + run.model.method_name + "' does not merge: " + refusal);
  run.model.method->merge();
  NamedTensors tensors;
  for (auto& [name, tensor] : state_dict(*run.model.backbone)) {
    // A copy: unmerge() restores the weights in place.
    tensors.emplace_back(name, tensor.detach().to(at::kCPU).clone(at::MemoryFormat::Contiguous));
  }
  run.model.method->unmerge();
  if (model_folder) {
    write_model_folder(output, *model_folder, tensors, max_shard_bytes);
    return;
  }
  write_safetensors(output, tensors, {{"format", "pt"}});
}

}  // namespace peft
