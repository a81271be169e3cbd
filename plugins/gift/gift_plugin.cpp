// The `gift` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "gift.h"

namespace {

void register_gift(peft::Registry& registry) {
  registry.add_method({"gift", "GIFT: a shared generator makes each layer's residual from its own frozen weights",
                       [](const peft::Options& options) {
                         return std::make_shared<peft::gift::Gift>(peft::gift::gift_options_from(options));
                       },
                       peft::gift::gift_option_specs()});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "gift", "0.1.0", "GIFT (Savadikar, Song, Wu): PaCa and linear schemas",
            register_gift)
