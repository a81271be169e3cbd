// The `bitfit` method plugin: descriptor and registration only.
#include <peft/plugin.h>

#include "bitfit.h"

namespace {

void register_bitfit(peft::Registry& registry) {
  registry.add_method({"bitfit", "BitFit: train only the biases of the selected Linears and the head",
                       [](const peft::Options&) { return std::make_shared<peft::bitfit::BitFit>(); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "bitfit", "0.1.0", "BitFit (Ben Zaken et al., 2022)", register_bitfit)
