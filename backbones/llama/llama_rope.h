#pragma once
// Rotary position embeddings as Hugging Face's Llama computes them: inverse frequencies with the config's scaling,
// cos/sin tables over both halves of a head, and rotate_half on the checkpoint's (permuted) q/k layout.

#include <ATen/core/Tensor.h>

#include <utility>

#include "llama_config.h"

namespace peft::llama {

/// (x1, x2) → (-x2, x1) over the two halves of the last dimension.
at::Tensor rotate_half(const at::Tensor& x);

/// [head_dim / 2] float32: θ^(-2i/d), divided by `factor` (linear) or banded by wavelength (llama3), as HF's
/// _compute_default/linear_scaling/llama3_parameters give them.
at::Tensor rope_inverse_frequencies(const LlamaConfig& config);

/// cos and sin [length, head_dim] of RoPE for positions start..start + length - 1 (the frequencies repeated over
/// both halves), on inv_freq's device: a cached generation step computes its own position only.
std::pair<at::Tensor, at::Tensor> rope_tables(const at::Tensor& inv_freq, std::int64_t start, std::int64_t length);

}  // namespace peft::llama
