#pragma once
/// \file
/// The interface a backbone plugin implements (ViT, ...): a torch module with timm's entry points.

#include <torch/nn/module.h>

#include <array>
#include <string>
#include <vector>

#include "peft/api.h"
#include "peft/fwd.h"
#include "peft/named_tensors.h"
#include "peft/safetensors.h"
#include "peft/site.h"
#include "peft/taps.h"

namespace peft {

/// How images must be prepared for a backbone (timm's pretrained config).
struct Preprocessing {
  std::int64_t image_size = 224;
  std::array<double, 3> mean{0.5, 0.5, 0.5};
  std::array<double, 3> std{0.5, 0.5, 0.5};
  /// "bilinear" or "bicubic".
  std::string interpolation = "bicubic";
  /// Evaluation crop fraction (timm's crop_pct): images are resized to floor(image_size / crop_pct), then cropped.
  double crop_pct = 0.875;
};

/// A pretrained model that methods adapt, made by its plugin's factory from the recipe's `[backbone]` options.
///
/// Parameter names follow timm (`blocks.0.attn.qkv.weight`), so timm checkpoints load as they are.
class PEFT_API Backbone : public torch::nn::Module {
 public:
  ~Backbone() override;

  /// Images [B, C, H, W] → features; for a transformer, the tokens after the final norm [B, N, D].
  virtual torch::Tensor forward_features(const torch::Tensor& images) = 0;
  /// Features → the pooled representation the head reads [B, D] (timm's pre_logits).
  virtual torch::Tensor pre_logits(const torch::Tensor& features) = 0;
  /// Features → logits [B, num_classes].
  virtual torch::Tensor forward_head(const torch::Tensor& features) = 0;
  /// Images → logits.
  torch::Tensor forward(const torch::Tensor& images) { return forward_head(forward_features(images)); }

  virtual std::int64_t num_classes() const = 0;
  /// Replaces the head with a freshly initialised one for `num_classes` (0: no head, logits are pre_logits).
  virtual void reset_classifier(std::int64_t num_classes) = 0;

  /// The classifier head's parameters by name (`head.weight`, `head.bias`); empty without a head.
  virtual NamedTensors head_parameters() = 0;
  /// Names of parameters that take no weight decay when they train (timm's `no_weight_decay()`: position
  /// embeddings, class token).
  virtual std::vector<std::string> no_weight_decay() const { return {}; }

  /// Every adaptable layer, in forward order.
  virtual std::vector<Site> sites() = 0;
  /// The transformer taps, or nullptr when this backbone has none.
  virtual TransformerTaps* taps() { return nullptr; }

  /// Loads `checkpoint` (timm key names). Throws peft::Error listing every missing, unexpected and mis-shaped key
  /// at once. Returns notices for the user, e.g. that a head of another size was dropped.
  virtual std::vector<std::string> load_checkpoint(const TensorFile& checkpoint) = 0;

  virtual Preprocessing preprocessing() const = 0;
};

}  // namespace peft
