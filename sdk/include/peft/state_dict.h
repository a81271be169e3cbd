#pragma once
/// \file
/// Named tensors in and out of a module, the way checkpoints need them.

#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"
#include "peft/checkpoint_source.h"
#include "peft/named_tensors.h"

namespace peft {

/// The parameters and buffers of `module` by dotted name (`blocks.0.attn.qkv.weight`), in registration order.
PEFT_API NamedTensors state_dict(const torch::nn::Module& module);

/// Copies `tensors` into the parameters and buffers of `module` with the same names, cast to their dtype and
/// device. Strict: every name of `module` missing from `tensors`, every name of `tensors` the module lacks, and
/// every shape that differs is listed in one peft::Error that names `source`; nothing is copied then.
PEFT_API void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source);

/// The same from a checkpoint source, tensor by tensor: names and shapes are checked from the headers first (one
/// error listing every problem, nothing read), then each tensor is read, cast and copied, and dropped before the
/// next, so peak memory is the model plus its largest tensor.
PEFT_API void load_state_dict(torch::nn::Module& module, const CheckpointSource& source);

}  // namespace peft
