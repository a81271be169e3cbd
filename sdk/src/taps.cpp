#include "peft/taps.h"

#include "peft/backbone.h"
#include "peft/error.h"

namespace peft {

TransformerTaps::~TransformerTaps() = default;

TransformerTaps& require_taps(Backbone& backbone, const std::string& method) {
  if (TransformerTaps* taps = backbone.taps()) return *taps;
  throw Error(method, "needs a transformer backbone with taps (block inputs, attention values), got backbone '" +
                          backbone.name() + "' without them");
}

}  // namespace peft
