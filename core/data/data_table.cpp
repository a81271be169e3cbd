#include "data/data_table.h"

#include <set>

#include "peft/error.h"

namespace peft::data {
namespace {

// Decoding threads beyond this only contend (and 100000 failed to start).
constexpr std::int64_t kMostWorkers = 256;

}  // namespace

const std::vector<OptionSpec>& loader_option_specs() {
  static const std::vector<OptionSpec> specs{
      {"workers", OptionType::integer, std::int64_t{2}, "loader threads, 0 to 256 (0: in the training thread)"},
      {"pin_memory", OptionType::boolean, true,
       "on a CUDA device: batches in page-locked memory, copied to the GPU asynchronously (ignored on the CPU)"},
  };
  return specs;
}

DataTable read_data_table(const RecipeTable& table, const std::vector<OptionSpec>& task_keys,
                          const std::filesystem::path& recipe_folder, std::uint64_t seed) {
  std::vector<OptionSpec> specs = loader_option_specs();
  specs.insert(specs.end(), task_keys.begin(), task_keys.end());
  const Options all = resolve_options(specs, table.options, table.context, table.option_contexts);
  std::set<std::string> loader_keys;
  for (const OptionSpec& spec : loader_option_specs()) loader_keys.insert(spec.name);
  std::map<std::string, OptionValue> task_values;
  std::map<std::string, std::string> task_contexts;
  for (const auto& [key, value] : all.values()) {
    if (loader_keys.count(key) != 0) continue;
    task_values.emplace(key, value);
    const auto located = table.option_contexts.find(key);
    if (located != table.option_contexts.end()) task_contexts.emplace(key, located->second);
  }
  DataTable result;
  result.request.options = Options(table.context, std::move(task_values), std::move(task_contexts));
  result.request.recipe_folder = recipe_folder;
  result.request.seed = seed;
  const std::int64_t workers = all.get<std::int64_t>("workers");
  if (workers < 0 || workers > kMostWorkers) {
    throw Error("data", all.context_of("workers") + ": workers = " + std::to_string(workers) + ", expected 0 to " +
                            std::to_string(kMostWorkers) + " (0: decode in the training thread)");
  }
  result.workers = static_cast<int>(workers);
  result.pin_memory = all.get<bool>("pin_memory");
  return result;
}

LoaderOptions train_loader_options(const DataTable& table, std::int64_t batch_size, std::uint64_t seed) {
  LoaderOptions options;
  options.batch_size = batch_size;
  options.seed = seed;
  options.workers = table.workers;
  options.pin_memory = table.pin_memory;
  return options;
}

LoaderOptions eval_loader_options(const DataTable& table, std::int64_t batch_size, std::uint64_t seed) {
  LoaderOptions options = train_loader_options(table, batch_size, seed);
  options.shuffle = false;
  return options;
}

}  // namespace peft::data
