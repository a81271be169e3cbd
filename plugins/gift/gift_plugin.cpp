// The `gift` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "gift.h"

namespace {

void register_gift(peft::Registry& registry) {
  using peft::gift::GiftOptions;
  registry.add_method({"gift", "GIFT: a shared generator makes each layer's residual from its own frozen weights",
                       peft::gift::gift_option_table(),
                       [](const GiftOptions& options) { return std::make_shared<peft::gift::Gift>(options); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "gift", "0.1.0", "GIFT (Savadikar, Song, Wu): PaCa and linear schemas",
            register_gift)
