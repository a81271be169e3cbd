#include "peft/attention.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "peft/error.h"

// at::scaled_dot_product_attention came in 2.0; its `scale` argument in 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define PEFT_HAS_SDPA 1
#else
#define PEFT_HAS_SDPA 0
#endif

namespace peft {
namespace {

// [T, S] or [B, 1, T, S], true where query t may not read key s; undefined when every query reads every key.
at::Tensor hidden_keys(const at::Tensor& q, std::int64_t keys, const AttentionSpec& spec) {
  at::Tensor hidden;
  // Causal hides key s from query t when s > past + t; with keys <= past + 1 (one new token after the cache) none.
  if (spec.causal && keys > spec.past + 1) {
    hidden = at::ones({q.size(2), keys}, q.options().dtype(at::kBool)).triu(spec.past + 1);
  }
  if (spec.key_mask.defined()) {
    if (spec.key_mask.dim() != 2 || spec.key_mask.size(0) != q.size(0) || spec.key_mask.size(1) != keys) {
      std::ostringstream message;
      message << "key_mask is " << spec.key_mask.sizes() << ", expected [" << q.size(0) << ", " << keys << "]";
      throw Error("attention", message.str());
    }
    const at::Tensor padding = spec.key_mask.eq(0).view({q.size(0), 1, 1, keys});
    hidden = hidden.defined() ? hidden.logical_or(padding) : padding;
  }
  return hidden;
}

#if PEFT_HAS_SDPA
// Key/value heads shared by groups of query heads, repeated to one per query head (SDPA before 2.5 has no GQA).
at::Tensor per_query_head(const at::Tensor& kv, std::int64_t heads) {
  if (kv.size(1) == heads) return kv;
  return kv.repeat_interleave(heads / kv.size(1), 1);
}
#endif

// Grouped-query heads read their key/value head without copying it per query head: the g query heads that share
// key/value head j are stacked as g·T rows against it (one larger matmul instead of a repeat_interleave of k and v).
at::Tensor plain(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& hidden, double scale,
                 double dropout) {
  const std::int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), kv_heads = k.size(1);
  const std::int64_t group = heads / kv_heads;
  const std::int64_t keys = k.size(2);
  at::Tensor queries = q * scale;
  if (group > 1) queries = queries.reshape({batch, kv_heads, group * length, q.size(3)});
  at::Tensor scores = at::matmul(queries, k.transpose(-2, -1));
  if (hidden.defined()) {
    const at::Tensor per_group = hidden.dim() == 4 && group > 1 ? hidden.unsqueeze(2) : hidden;
    const at::Tensor grouped = group > 1 ? scores.view({batch, kv_heads, group, length, keys}) : scores;
    scores = grouped.masked_fill(per_group, -std::numeric_limits<float>::infinity()).view(scores.sizes());
  }
  at::Tensor weights = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  if (dropout > 0.0) weights = at::dropout(weights, dropout, true);
  return at::matmul(weights, v).view({batch, heads, length, v.size(3)});
}

#if PEFT_HAS_SDPA
at::Tensor fused(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& hidden,
                 const AttentionSpec& spec, double scale) {
  // Plain causal attention over keys that start with the queries: SDPA's own causal flag (its fast kernels).
  const bool causal_only = spec.causal && spec.past == 0 && !spec.key_mask.defined() && q.size(2) == k.size(2);
  c10::optional<at::Tensor> allowed;
  if (!causal_only && hidden.defined()) allowed = hidden.logical_not();  // SDPA's boolean mask: true = attend
  return at::scaled_dot_product_attention(q, k, v, allowed, spec.dropout, causal_only, scale);
}
#endif

}  // namespace

bool sdpa_available() { return PEFT_HAS_SDPA != 0; }

std::string to_string(AttentionKernel kernel) {
  switch (kernel) {
    case AttentionKernel::automatic:
      return "auto";
    case AttentionKernel::plain:
      return "plain";
    case AttentionKernel::sdpa:
      return "sdpa";
  }
  return "?";
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionSpec& spec) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
    throw Error("attention", "q, k and v must be [batch, heads, length, head_dim]");
  }
  const double scale = spec.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const at::Tensor hidden = hidden_keys(q, k.size(2), spec);
  if (k.size(1) == 0 || q.size(1) % k.size(1) != 0 || v.size(1) != k.size(1)) {
    throw Error("attention", std::to_string(k.size(1)) + " key/value heads do not divide " + std::to_string(q.size(1)) +
                                 " query heads");
  }
  const bool use_sdpa =
      spec.kernel == AttentionKernel::sdpa || (spec.kernel == AttentionKernel::automatic && sdpa_available());
#if PEFT_HAS_SDPA
  if (use_sdpa) return fused(q, per_query_head(k, q.size(1)), per_query_head(v, q.size(1)), hidden, spec, scale);
#else
  if (use_sdpa) {
    throw Error("attention", std::string("attention = 'sdpa' needs LibTorch 2.1 or later; this build is ") +
                                 TORCH_VERSION + " (use 'plain' or 'auto')");
  }
#endif
  return plain(q, k, v, hidden, scale, spec.dropout);
}

}  // namespace peft
