#pragma once
/// \file
/// Named tensors in and out of a module, the way checkpoints need them.

#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"
#include "peft/named_tensors.h"

namespace peft {

/// The parameters and buffers of `module` by dotted name (`blocks.0.attn.qkv.weight`), in registration order.
PEFT_API NamedTensors state_dict(const torch::nn::Module& module);

/// Copies `tensors` into the parameters and buffers of `module` with the same names, cast to their dtype and
/// device. Strict: every name of `module` missing from `tensors`, every name of `tensors` the module lacks, and
/// every shape that differs is listed in one peft::Error that names `source`; nothing is copied then.
PEFT_API void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source);

}  // namespace peft
