#pragma once
/// \file
/// Named tensors: what checkpoints, adapter files and optimiser states are made of.

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace peft {

/// Tensors by dotted name (`blocks.0.attn.qkv.weight`), in a meaningful order (registration, file).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

}  // namespace peft
