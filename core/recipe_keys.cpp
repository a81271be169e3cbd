#include "recipe_keys.h"

#include "data/data_table.h"
#include "train/train_options.h"

namespace peft {

const std::vector<RecipeKeyTable>& recipe_key_tables() {
  using T = OptionType;
  static const std::vector<RecipeKeyTable> tables{
      {"",
       {{"schema_version", T::integer, std::nullopt, "required: 1"},
        {"name", T::string, std::nullopt, "the run's name, one path segment (default: the recipe file's stem)"},
        {"seed", T::integer, std::int64_t{0}, "everything random derives from it (>= 0)"},
        {"device", T::string, std::string("auto"), "auto | cpu | cuda | cuda:N"},
        {"threads", T::integer, std::int64_t{0}, "LibTorch intra-op threads; 0 = all cores"},
        {"task", T::string, std::nullopt,
         "what the run learns (peft list); default: image_classification for a backbone that reads images"}}},
      {"backbone",
       {{"plugin", T::string, std::nullopt, "required: the backbone plugin (peft list); its own keys are listed below"},
        {"checkpoint", T::string, std::nullopt,
         "a safetensors file with timm key names, or a timm hub folder, relative to the recipe"},
        {"head", T::string, std::string("keep"),
         "keep (a checkpoint head that fits the data stays) | new (always a fresh head)"}}},
      {"method",
       {{"plugin", T::string, std::nullopt, "required: the method plugin (peft list)"},
        {"targets", T::string_list, std::nullopt,
         "site patterns to adapt (default: the method's own, else every site)"},
        {"exclude", T::string_list, std::vector<std::string>{}, "site patterns left alone, applied first"},
        {"options", T::string, std::nullopt, "the [method.options] table: the plugin's own keys, listed below"}},
       {"options"}},
      {"data", data::loader_option_specs()},
      {"train", train_option_specs()},
      {"output", output_option_specs()},
      {"sweep",
       {{"grid", T::string, std::nullopt, "{ \"train.lr\" = [...], ... }: any recipe keys and their values"},
        {"tune", T::string, std::nullopt, "{ train_split, eval_split } for the trials (train800 -> val200)"},
        {"final", T::string, std::nullopt, "{ train_split, eval_split } for the final runs (train800val200 -> test)"},
        {"seeds", T::integer_list, std::nullopt, "seeds of every configuration (default: the recipe's seed)"},
        {"final_seeds", T::integer_list, std::nullopt, "seeds of the final runs (default: seeds)"},
        {"metric", T::string, std::nullopt,
         "the metric that selects the configuration, in its direction (default: the task's primary one)"}},
       {"grid", "tune", "final"}},
  };
  return tables;
}

}  // namespace peft
