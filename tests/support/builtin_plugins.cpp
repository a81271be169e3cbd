#include "support/builtin_plugins.h"

#include <ATen/ATen.h>

#include "peft/backbone.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "tasks/builtin_tasks.h"

namespace peft::test {

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry loaded;
    register_builtin_tasks(loaded);
    for (const auto& record : load_plugins(loaded, {{PEFT_BUILTIN_PLUGIN_DIR, false}})) {
      if (!record.loaded())
        throw Error("test", "built-in plugin rejected: " + record.path.string() + ": " + record.reason);
    }
    return loaded;
  }();
  return registry;
}

std::shared_ptr<Backbone> make_backbone(const std::string& plugin, const std::map<std::string, OptionValue>& given) {
  const auto& entry = builtin_registry().backbones().at(plugin);
  return entry.create(resolve_options(entry.options, given, "test [backbone]"));
}

double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  TORCH_CHECK(actual.sizes() == expected.sizes(), "shapes differ: ", actual.sizes(), " vs ", expected.sizes());
  return (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

}  // namespace peft::test
