#pragma once
/// \file
/// Scaled dot-product attention, in one place for every backbone: LibTorch's fused
/// `at::scaled_dot_product_attention` where the build has it (2.1 and later) and a plain implementation otherwise
/// (Debian's LibTorch 1.13 has no SDPA). Both take the same arguments and give the same result (tested).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>

#include "peft/api.h"

namespace peft {

enum class AttentionKernel {
  /// SDPA where the build has it, else plain.
  automatic,
  /// matmul, masked softmax in float32, matmul.
  plain,
  /// at::scaled_dot_product_attention (a peft::Error on a build without it).
  sdpa,
};

/// Whether this LibTorch build has at::scaled_dot_product_attention with a scale argument.
PEFT_API bool sdpa_available();

struct AttentionSpec {
  /// Query t may not read keys after its own position.
  bool causal = false;
  /// Keys that precede the first query (a key/value cache): query t sits at position `past + t`.
  std::int64_t past = 0;
  /// [B, S]: 1 where the key is a real token, 0 where it is padding; undefined: every key is real.
  at::Tensor key_mask;
  /// Multiplies q kᵀ; unset: 1 / sqrt(head_dim).
  std::optional<double> scale;
  /// Dropout on the attention weights (the caller passes 0 outside training).
  double dropout = 0.0;
  AttentionKernel kernel = AttentionKernel::automatic;
};

/// softmax(q kᵀ · scale, masked) v for q [B, H, T, d] and k, v [B, H_kv, S, d], where H_kv divides H (grouped-query
/// attention: query head h reads key/value head h / (H / H_kv)). Returns [B, H, T, d] in q's dtype; the plain
/// kernel's softmax runs in float32. A query that every key is hidden from gets NaN, as in PyTorch.
PEFT_API at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const AttentionSpec& spec = {});

/// "auto", "plain", "sdpa" for options and messages.
PEFT_API std::string to_string(AttentionKernel kernel);

}  // namespace peft
