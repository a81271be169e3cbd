#include "peft/backbone.h"

namespace peft {

// Out of line so the vtable and type information live in the SDK library only, shared by every plugin.
Backbone::~Backbone() = default;

}  // namespace peft
