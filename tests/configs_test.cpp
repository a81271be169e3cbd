// Every recipe shipped in configs/ loads and names plugins and options that exist: a typo there would only show on
// a user's GPU hours later.
#include <catch2/catch.hpp>
#include <filesystem>

#include "data/data_plan.h"
#include "model_builder.h"
#include "recipe.h"
#include "support/builtin_plugins.h"

namespace fs = std::filesystem;

CATCH_TEST_CASE("every shipped recipe is valid: its keys, plugins and plugin options") {
  const auto& registry = peft::test::builtin_registry();
  std::vector<fs::path> recipes;
  for (const char* root : {PEFT_CONFIGS_DIR, PEFT_BENCH_RECIPES_DIR}) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().extension() == ".toml") recipes.push_back(entry.path());
    }
  }
  std::size_t count = 0;
  for (const auto& path : recipes) {
    ++count;
    CATCH_INFO(path.string());
    const peft::Recipe recipe = peft::load_recipe(path);
    const auto& backbone = peft::plugin_entry(registry.backbones(), recipe.backbone);
    CATCH_CHECK_NOTHROW(peft::resolve_options(backbone.options, recipe.backbone.options, recipe.backbone.context,
                                              recipe.backbone.option_contexts));
    CATCH_REQUIRE(recipe.method.has_value());
    const auto& method = peft::plugin_entry(registry.methods(), *recipe.method);
    CATCH_CHECK_NOTHROW(peft::resolve_options(method.options, recipe.method->options, recipe.method->context,
                                              recipe.method->option_contexts));
    CATCH_REQUIRE(recipe.data.has_value());
    CATCH_CHECK_NOTHROW(peft::resolve_options(peft::data::data_option_specs(), recipe.data->options,
                                              recipe.data->context, recipe.data->option_contexts));
  }
  CATCH_CHECK(count >= 33);  // quickstart, pretrain, 8 mini-vtab, 19 VTAB-1k, 5 FGVC, the bench's
}
