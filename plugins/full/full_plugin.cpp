// The `full` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "full.h"

namespace {

void register_full(peft::Registry& registry) {
  registry.add_method({"full", "Full fine-tuning: every backbone parameter trains",
                       [](const peft::Options&) { return std::make_shared<peft::full::FullFineTuning>(); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "full", "0.1.0", "Full fine-tuning (upper reference)", register_full)
