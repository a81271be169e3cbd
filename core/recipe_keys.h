#pragma once
// Every key a recipe may hold outside the plugins' own options, with type, default and meaning, for
// `peft list --options`. [data], [train] and [output] are the declarations that validate those tables.

#include <string>
#include <vector>

#include "peft/options.h"

namespace peft {

/// The keys of one recipe table ("" for the top level).
struct RecipeKeyTable {
  std::string table;
  std::vector<OptionSpec> keys;
  /// Keys whose value is a table (`[method.options]`, `[sweep] grid`), shown as such.
  std::vector<std::string> table_keys = {};
};

const std::vector<RecipeKeyTable>& recipe_key_tables();

}  // namespace peft
