#pragma once

#include "peft/registry.h"

namespace peft {

/// The name recipes give it (and the default task of a backbone that reads images).
inline constexpr const char* kImageClassification = "image_classification";

/// Registers image_classification: a VTAB-1k, FGVC or ImageFolder dataset, a new classifier head sized from its
/// classes, cross-entropy with optional label smoothing, top-1 and loss.
void register_image_classification(Registry& registry);

}  // namespace peft
