#pragma once
// A recipe's `[data]` table, split between the loader (the keys every task has) and the task (its own keys).

#include <cstdint>
#include <filesystem>
#include <vector>

#include "data/loader.h"
#include "peft/options.h"
#include "peft/task.h"
#include "recipe.h"

namespace peft::data {

/// The `[data]` keys the loader reads, whatever the task: workers, pin_memory.
const std::vector<OptionSpec>& loader_option_specs();

/// A `[data]` table checked against the loader's keys and a task's.
struct DataTable {
  /// The task's keys, resolved (defaults filled in), with where each was written.
  DataRequest request;
  /// Loader threads.
  int workers = 2;
  /// Page-locked batches when the run is on a GPU.
  bool pin_memory = true;
};

/// Resolves `table` against loader_option_specs() and `task_keys`: an unknown key, a value of the wrong type or a
/// bad `workers` is a peft::Error naming the file, line and key. The request has the seed and recipe folder; the
/// caller adds the backbone and preprocessing.
DataTable read_data_table(const RecipeTable& table, const std::vector<OptionSpec>& task_keys,
                          const std::filesystem::path& recipe_folder, std::uint64_t seed);

/// The loader settings of a run's splits: training shuffles, evaluation keeps the split's order.
LoaderOptions train_loader_options(const DataTable& table, std::int64_t batch_size, std::uint64_t seed);
LoaderOptions eval_loader_options(const DataTable& table, std::int64_t batch_size, std::uint64_t seed);

}  // namespace peft::data
