// The `toast` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "toast.h"

namespace {

void register_toast(peft::Registry& registry) {
  registry.add_method({"toast", "TOAST: top-down attention steering, two passes through the frozen backbone",
                       peft::toast::toast_option_table(), [](const peft::toast::ToastOptions& options) {
                         return std::make_shared<peft::toast::Toast>(options);
                       }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "toast", "0.1.0", "TOAST (Shi et al., 2023), full and lite", register_toast)
