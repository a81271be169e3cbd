#pragma once
// Batches of token sequences of different lengths, padded on the right as Hugging Face's collators do.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "peft/batch.h"

namespace peft::data {

/// The 1-D `name` tensors of `examples` as the rows of [B, longest], each followed by `pad`.
at::Tensor right_padded(const std::vector<Batch>& examples, const std::string& name, std::int64_t pad);
/// [B, longest]: 1 over each example's input_ids, 0 on the padding.
at::Tensor attention_mask(const std::vector<Batch>& examples);

}  // namespace peft::data
