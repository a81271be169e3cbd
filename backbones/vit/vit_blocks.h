#pragma once
// The modules inside a ViT block, named as timm names them (attn.qkv, attn.proj, mlp.fc1, mlp.fc2, norm1, norm2).

#include <peft/site.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>

#include <string>

namespace peft::vit {

/// timm's ViT LayerNorm: eps 1e-6, affine.
torch::nn::LayerNorm layer_norm(std::int64_t dim);

/// Drops whole samples' residual branches with probability `rate` in training, scaling the rest by 1/(1-rate).
torch::Tensor drop_path(const torch::Tensor& x, double rate, bool training);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const std::string& prefix, std::int64_t dim, std::int64_t num_heads, bool qkv_bias,
                double attn_drop_rate, double proj_drop_rate);
  /// `value_input` [B, N, D] (optional): its projection by the frozen V slice of qkv, bias included, is added to
  /// the attention values (TOAST).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& value_input);

  Site qkv{nullptr};
  Site proj{nullptr};

 private:
  std::int64_t num_heads_;
  double attn_drop_rate_;
  torch::nn::Dropout proj_drop_{nullptr};
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(const std::string& prefix, std::int64_t dim, std::int64_t hidden, double drop_rate);
  torch::Tensor forward(const torch::Tensor& x);

  Site fc1{nullptr};
  Site fc2{nullptr};

 private:
  torch::nn::Dropout drop_{nullptr};
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
 public:
  /// `prefix`: the block's own name, e.g. `blocks.3`.
  BlockImpl(const std::string& prefix, std::int64_t dim, std::int64_t num_heads, double mlp_ratio, bool qkv_bias,
            double proj_drop_rate, double attn_drop_rate, double drop_path_rate);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& value_input);

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};

 private:
  double drop_path_rate_;
};
TORCH_MODULE(Block);

}  // namespace peft::vit
