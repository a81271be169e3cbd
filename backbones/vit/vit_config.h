#pragma once

#include <peft/options.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peft::vit {

/// The architecture of a Vision Transformer, as timm's VisionTransformer arguments.
struct VitConfig {
  std::int64_t img_size = 224;
  std::int64_t patch_size = 16;
  std::int64_t in_chans = 3;
  /// 0: no head (logits are the pooled features).
  std::int64_t num_classes = 1000;
  /// True when the recipe set num_classes: a checkpoint head of another size is then dropped, not adopted.
  bool num_classes_set = false;
  std::int64_t embed_dim = 768;
  std::int64_t depth = 12;
  std::int64_t num_heads = 12;
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  bool class_token = true;
  /// "token" (the class token) or "avg" (mean of the patch tokens).
  std::string global_pool = "token";
  /// LayerNorm after pooling instead of before it (timm's default for avg pooling).
  bool fc_norm = false;
  double drop_rate = 0.0;
  double pos_drop_rate = 0.0;
  double proj_drop_rate = 0.0;
  double attn_drop_rate = 0.0;
  /// Stochastic depth at the last block; linear from 0 over depth.
  double drop_path_rate = 0.0;

  std::int64_t grid_size() const { return img_size / patch_size; }
  std::int64_t num_prefix_tokens() const { return class_token ? 1 : 0; }
};

/// A named architecture: a small factory that fixes only architecture fields (timm's variant functions).
struct VitVariant {
  const char* name;
  std::int64_t img_size;
  std::int64_t patch_size;
  std::int64_t embed_dim;
  std::int64_t depth;
  std::int64_t num_heads;
};

const std::vector<VitVariant>& vit_variants();

/// The options of the `vit` plugin: `variant`, every architecture field (overriding the variant's), dropout rates.
const std::vector<OptionSpec>& vit_option_specs();

/// The configuration `options` describe; throws peft::Error naming the key on an unknown variant, a missing
/// architecture field or an out-of-range value.
VitConfig vit_config_from_options(const Options& options);

}  // namespace peft::vit
