#pragma once
// Batches for tests that call backbones and methods directly.

#include "peft/batch.h"

namespace peft::test {

/// `images` as the one-entry batch an image backbone reads.
inline Batch image_batch(const at::Tensor& images) { return {{keys::images, images}}; }

}  // namespace peft::test
