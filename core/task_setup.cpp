#include "task_setup.h"

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "tasks/image_classification.h"

namespace peft {

ChosenTask named_task(const Registry& registry, const Recipe& recipe) {
  ChosenTask chosen;
  chosen.name = recipe.task.empty() ? kImageClassification : recipe.task;
  chosen.entry = registry.tasks().find(chosen.name);
  if (chosen.entry == nullptr) {
    const std::string known = join(registry.tasks().names());
    throw Error("recipe",
                recipe.task_context + ": task = '" + chosen.name +
                    "' is not a loaded task, expected one of: " + (known.empty() ? "(none; see peft list)" : known));
  }
  chosen.task = chosen.entry->create(Options());  // its [data] keys come with read_data
  return chosen;
}

ChosenTask choose_task(const Registry& registry, const Recipe& recipe, Backbone& backbone) {
  const std::vector<std::string> inputs = backbone.inputs();
  const bool reads_images = std::find(inputs.begin(), inputs.end(), keys::images) != inputs.end();
  const std::string where = recipe.task.empty() ? recipe.backbone.context : recipe.task_context;
  if (recipe.task.empty() && !reads_images) {
    throw Error("recipe", recipe.file.string() + ": backbone '" + recipe.backbone.plugin + "' reads " + join(inputs) +
                              ", so the recipe must name its task (task = \"...\", one of: " +
                              join(registry.tasks().names()) + ")");
  }
  ChosenTask chosen = named_task(registry, recipe);
  const std::string refusal = chosen.task->refusal(backbone);
  if (!refusal.empty()) {
    throw Error("recipe", where + ": backbone '" + recipe.backbone.plugin + "' does not fit task '" + chosen.name +
                              "': " + refusal);
  }
  return chosen;
}

data::DataTable check_data_table(const ChosenTask& chosen, const Recipe& recipe) {
  if (!recipe.data) throw Error("recipe", recipe.file.string() + ": the recipe has no [data] table");
  data::DataTable table =
      data::read_data_table(*recipe.data, chosen.entry->options, recipe.file.parent_path(), recipe.seed);
  chosen.task->check_data(table.request);
  return table;
}

RunData read_run_data(const ChosenTask& chosen, const Recipe& recipe, const BuiltBackbone& built) {
  data::DataTable table = check_data_table(chosen, recipe);
  table.request.backbone = built.backbone.get();
  if (built.backbone->image_input() != nullptr) table.request.preprocessing = &built.preprocessing;
  RunData run;
  run.data = chosen.task->read_data(table.request);
  run.train_loader = data::train_loader_options(table, recipe.train.batch_size, recipe.seed);
  run.train_loader.micro_batches = static_cast<int>(recipe.train.gradient_accumulation_steps);
  run.eval_loader = data::eval_loader_options(table, recipe.train.evaluation_batch_size(), recipe.seed);
  return run;
}

}  // namespace peft
