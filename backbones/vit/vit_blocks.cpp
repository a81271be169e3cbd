#include "vit_blocks.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/linear.h>

#include "peft/attention.h"

namespace peft::vit {

torch::nn::LayerNorm layer_norm(std::int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
}

torch::Tensor drop_path(const torch::Tensor& x, double rate, bool training) {
  if (!training || rate == 0.0) return x;
  const double keep = 1.0 - rate;
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  const torch::Tensor mask = torch::empty(shape, x.options()).bernoulli_(keep);
  return x * mask / keep;
}

AttentionImpl::AttentionImpl(const std::string& prefix, std::int64_t dim, std::int64_t num_heads, bool qkv_bias,
                             double attn_drop_rate, double proj_drop_rate)
    : num_heads_(num_heads), attn_drop_rate_(attn_drop_rate) {
  qkv = register_module("qkv", Site(prefix + ".qkv", dim, dim * 3, qkv_bias));
  proj = register_module("proj", Site(prefix + ".proj", dim, dim));
  proj_drop_ = register_module("proj_drop", torch::nn::Dropout(proj_drop_rate));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& value_input) {
  const std::int64_t batch = x.size(0);
  const std::int64_t tokens = x.size(1);
  const std::int64_t dim = x.size(2);
  const std::int64_t head_dim = dim / num_heads_;
  const auto split_heads = [&](const torch::Tensor& t) {  // [B, N, D] -> [B, H, N, hd]
    return t.reshape({batch, tokens, num_heads_, head_dim}).permute({0, 2, 1, 3});
  };
  const torch::Tensor qkv_out = qkv(x).reshape({batch, tokens, 3, num_heads_, head_dim}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_out[0];
  const torch::Tensor k = qkv_out[1];
  torch::Tensor v = qkv_out[2];
  if (value_input.defined()) {
    TORCH_CHECK(value_input.sizes() == x.sizes(), "value_input must be ", x.sizes(), ", got ", value_input.sizes());
    const torch::Tensor weight_v = qkv->weight.slice(0, 2 * dim, 3 * dim);
    const torch::Tensor bias_v = qkv->has_bias() ? qkv->bias.slice(0, 2 * dim, 3 * dim) : torch::Tensor();
    v = v + split_heads(torch::nn::functional::linear(value_input, weight_v, bias_v));
  }
  AttentionSpec spec;
  spec.dropout = is_training() ? attn_drop_rate_ : 0.0;
  const torch::Tensor mixed = peft::attention(q, k, v, spec).transpose(1, 2).reshape({batch, tokens, dim});
  return proj_drop_(proj(mixed));
}

MlpImpl::MlpImpl(const std::string& prefix, std::int64_t dim, std::int64_t hidden, double drop_rate) {
  fc1 = register_module("fc1", Site(prefix + ".fc1", dim, hidden));
  fc2 = register_module("fc2", Site(prefix + ".fc2", hidden, dim));
  drop_ = register_module("drop", torch::nn::Dropout(drop_rate));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  // timm's Mlp: fc1 → exact GELU → drop → fc2 → drop.
  return drop_(fc2(drop_(torch::nn::functional::gelu(fc1(x)))));
}

BlockImpl::BlockImpl(const std::string& prefix, std::int64_t dim, std::int64_t num_heads, double mlp_ratio,
                     bool qkv_bias, double proj_drop_rate, double attn_drop_rate, double drop_path_rate)
    : drop_path_rate_(drop_path_rate) {
  norm1 = register_module("norm1", layer_norm(dim));
  attn = register_module("attn", Attention(prefix + ".attn", dim, num_heads, qkv_bias, attn_drop_rate, proj_drop_rate));
  norm2 = register_module("norm2", layer_norm(dim));
  mlp = register_module("mlp", Mlp(prefix + ".mlp", dim, static_cast<std::int64_t>(dim * mlp_ratio), proj_drop_rate));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& value_input) {
  const torch::Tensor after_attention = x + drop_path(attn(norm1(x), value_input), drop_path_rate_, is_training());
  return after_attention + drop_path(mlp(norm2(after_attention)), drop_path_rate_, is_training());
}

}  // namespace peft::vit
