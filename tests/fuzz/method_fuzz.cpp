// Fuzz target: a recipe's [backbone] and [method] tables through the plugins, as `peft run` builds them: each
// plugin's option declarations and own checks, the target selector, and attaching the method. The backbone's options
// are checked as given, then it is always the 2-block vit_pico without a checkpoint, so an input costs milliseconds.
// Inputs with a number option over 256 are left out: sizes are the plugins' business, not validation (a huge one is a
// one-line "cannot build the method" error, tested in the unit suite).
#include <variant>

#include "adapted_model.h"
#include "fuzz_input.h"
#include "model_builder.h"
#include "plugin_loader.h"
#include "recipe.h"

namespace {

const peft::Registry& registry() {
  static const peft::PluginSet plugins = peft::discover_plugins({PEFT_FUZZ_PLUGIN_DIR}, true);
  return plugins.registry;
}

bool small(const peft::RecipeTable& table) {
  for (const auto& [key, value] : table.options) {
    if (const auto* integer = std::get_if<std::int64_t>(&value); integer && *integer > 256) return false;
    if (const auto* number = std::get_if<double>(&value); number && *number > 256) return false;
    if (const auto* list = std::get_if<std::vector<std::int64_t>>(&value); list && list->size() > 256) return false;
  }
  return true;
}

}  // namespace

// Loads the plugins before libFuzzer reads the corpus, so their coverage counts from the first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("recipe.toml", data, size, [](const std::filesystem::path& file) {
    peft::Recipe recipe = peft::load_recipe(file);
    if (!recipe.method || !small(*recipe.method)) return;
    peft::BackboneSection& backbone = recipe.backbone;
    const auto& entry = peft::plugin_entry(registry().backbones(), backbone);
    (void)peft::resolve_options(entry.options, backbone.options, backbone.context, backbone.option_contexts);
    backbone.options.clear();
    backbone.options["variant"] = std::string("vit_pico_patch4_32");
    backbone.checkpoint.reset();
    peft::BuiltBackbone built = peft::build_backbone(registry(), backbone);
    peft::fit_head(built, backbone, 5);
    (void)peft::adapt(registry(), built.backbone, *recipe.method);
  });
}
