#pragma once
// A Vision Transformer with timm's module names, forward pass and checkpoint format.

#include <peft/backbone.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "vit_blocks.h"
#include "vit_config.h"

namespace peft::vit {

class VisionTransformer final : public Backbone, public ImageInput, public ClassifierHead, public TransformerTaps {
 public:
  explicit VisionTransformer(VitConfig config);

  std::vector<std::string> inputs() const override { return {keys::images}; }
  /// `images` → `hidden` (forward_features) and `logits` (forward_head).
  Outputs forward(const Batch& batch) override;

  /// timm's entry points: images [B, C, H, W] → the tokens after the final norm [B, N, D] → the pooled
  /// representation the head reads [B, D] → logits [B, num_classes].
  torch::Tensor forward_features(const torch::Tensor& images);
  torch::Tensor pre_logits(const torch::Tensor& features);
  torch::Tensor forward_head(const torch::Tensor& features);
  std::int64_t num_classes() const override { return config_.num_classes; }
  void reset_classifier(std::int64_t num_classes) override;
  NamedTensors head_parameters() override;
  std::vector<std::string> no_weight_decay() const override { return {"pos_embed", "cls_token"}; }
  std::vector<Site> sites() override;
  /// timm's names: the fused attn.qkv is query, key and value; attn.proj the output; mlp.fc1 / mlp.fc2 the MLP.
  std::vector<std::string> role_patterns(SiteRole role) const override;
  ImageInput* image_input() override { return this; }
  ClassifierHead* classifier() override { return this; }
  TransformerTaps* taps() override { return this; }
  std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) override;
  Preprocessing preprocessing() const override;

  std::int64_t num_blocks() const override { return config_.depth; }
  std::int64_t embed_dim() const override { return config_.embed_dim; }
  std::int64_t num_prefix_tokens() const override { return config_.num_prefix_tokens(); }
  std::optional<std::array<std::int64_t, 2>> patch_grid() const override {
    return std::array<std::int64_t, 2>{config_.grid_size(), config_.grid_size()};
  }

  const VitConfig& config() const { return config_; }

 private:
  void init_weights();

  VitConfig config_;
  torch::nn::Conv2d patch_proj_{nullptr};
  torch::Tensor cls_token_;
  torch::Tensor pos_embed_;
  torch::nn::Dropout pos_drop_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<Block> block_list_;
  torch::nn::LayerNorm norm_{nullptr};     // before pooling (token pooling)
  torch::nn::LayerNorm fc_norm_{nullptr};  // after pooling (avg pooling with fc_norm)
  torch::nn::Dropout head_drop_{nullptr};
  torch::nn::Linear head_{nullptr};
};

/// timm's resample_abs_pos_embed: keeps the prefix tokens and resizes the square grid of `pos_embed` [1, P+g², D] to
/// `grid` × `grid` by bicubic interpolation with antialiasing (align_corners off).
torch::Tensor resample_pos_embed(const torch::Tensor& pos_embed, std::int64_t grid, std::int64_t num_prefix_tokens);

}  // namespace peft::vit
