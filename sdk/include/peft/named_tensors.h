#pragma once
/// \file
/// Named tensors: what checkpoints, adapter files and optimiser states are made of, and the one strict way to load
/// them into the tensors they belong to.

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"

namespace peft {

/// Tensors by dotted name (`blocks.0.attn.qkv.weight`), in a meaningful order (registration, file).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

/// Copies each tensor of `given` into the tensor of `targets` with the same name, cast to its dtype and device,
/// without recording gradients. Strict: every target name missing from `given`, every name of `given` no target
/// has, and every shape that differs are listed together in one peft::Error from `component`, and nothing is copied:
///
///     [checkpoint] ckpt.safetensors does not fit the model: missing keys: norm.weight; unexpected keys: x;
///     shape mismatches: head.weight (file [10, 64], expected [5, 64])
///
/// `what` starts the message ("ckpt.safetensors does not fit the model"); `hint`, when given, ends it.
PEFT_API void copy_named_tensors(const NamedTensors& targets, const NamedTensors& given, const std::string& component,
                                 const std::string& what, const std::string& hint = {});

/// The value check copy_named_tensors makes after the names and shapes match: a floating-point target takes any
/// floating-point tensor (cast to its dtype), any other target only its own dtype. Each `given` dtype is for the
/// target of the same index in `matched` (match_named_shapes' result); a peft::Error from `component` lists every
/// tensor that does not fit ("dtype mismatches: head.weight (file Long, expected floating point)").
PEFT_API void check_named_dtypes(const NamedTensors& targets, const std::vector<std::size_t>& matched,
                                 const std::vector<std::pair<std::string, at::ScalarType>>& given,
                                 const std::string& component, const std::string& what);

/// copy_named_tensors' check alone, over names and shapes: for each target, the index in `given` of its tensor.
/// Throws the same one-line peft::Error when anything is missing, unexpected or mis-shaped.
PEFT_API std::vector<std::size_t> match_named_shapes(
    const NamedTensors& targets, const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& given,
    const std::string& component, const std::string& what, const std::string& hint = {});

}  // namespace peft
