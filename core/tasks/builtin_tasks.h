#pragma once

#include "peft/registry.h"

namespace peft {

/// Registers the tasks the host has built in, before any plugin (a plugin cannot shadow them): image_classification,
/// causal_lm and text_classification.
void register_builtin_tasks(Registry& registry);

}  // namespace peft
