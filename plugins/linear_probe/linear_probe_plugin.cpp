// The `linear_probe` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "linear_probe.h"

namespace {

void register_linear_probe(peft::Registry& registry) {
  registry.add_method({"linear_probe", "Linear probe: only the classifier head trains",
                       [](const peft::Options&) { return std::make_shared<peft::linear_probe::LinearProbe>(); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "linear_probe", "0.1.0", "Linear probe (head only)", register_linear_probe)
