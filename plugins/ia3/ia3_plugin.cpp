// The `ia3` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "ia3.h"

namespace {

void register_ia3(peft::Registry& registry) {
  using peft::ia3::Ia3Options;
  registry.add_method({"ia3",
                       "IA3: a learned scale on each selected Linear's output, or its input on feed-forward "
                       "sites (mergeable)",
                       peft::ia3::ia3_option_table(),
                       [](const Ia3Options& options) { return std::make_shared<peft::ia3::Ia3>(options); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "ia3", "0.1.0", "IA3 (Liu et al., 2022), Hugging Face peft adapter files",
            register_ia3)
