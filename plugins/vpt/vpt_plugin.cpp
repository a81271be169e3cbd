// The `vpt` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "vpt.h"

namespace {

void register_vpt(peft::Registry& registry) {
  registry.add_method({"vpt", "VPT: learned prompt tokens at the input of each block (deep) or the first (shallow)",
                       peft::vpt::vpt_option_table(),
                       [](const peft::vpt::VptOptions& options) { return std::make_shared<peft::vpt::Vpt>(options); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "vpt", "0.1.0", "VPT (Jia et al., 2022), shallow and deep", register_vpt)
