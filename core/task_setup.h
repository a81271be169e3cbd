#pragma once
// Which task a recipe runs, and its data read through it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "data/data_table.h"
#include "model_builder.h"
#include "peft/registry.h"
#include "peft/task.h"
#include "recipe.h"

namespace peft {

/// A recipe's task, made.
struct ChosenTask {
  std::string name;
  const TaskEntry* entry = nullptr;
  std::shared_ptr<Task> task;
};

/// The task `recipe` names (image_classification when it names none), made; an unknown task is a peft::Error naming
/// the recipe's task key and listing the loaded ones. Needs no backbone: a sweep checks its metric with it.
ChosenTask named_task(const Registry& registry, const Recipe& recipe);

/// The task `recipe` names, or image_classification when it names none and the backbone reads images. Refused in
/// one line naming the recipe: an unknown task (listing the loaded ones), no task for a backbone that reads no
/// images, or a task that cannot run on the backbone (Task::refusal).
ChosenTask choose_task(const Registry& registry, const Recipe& recipe, Backbone& backbone);

/// The `[data]` table checked against the task's keys (without reading any file: Task::check_data).
data::DataTable check_data_table(const ChosenTask& chosen, const Recipe& recipe);

/// The task's data for `recipe`'s `[data]`, with the built backbone's preprocessing.
struct RunData {
  TaskData data;
  data::LoaderOptions train_loader;
  data::LoaderOptions eval_loader;
};
RunData read_run_data(const ChosenTask& chosen, const Recipe& recipe, const BuiltBackbone& built);

}  // namespace peft
