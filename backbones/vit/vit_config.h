#pragma once

#include <peft/option_table.h>

#include <cstdint>
#include <optional>
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
  enum class Pool { token, avg };
  /// token: the class token; avg: the mean of the patch tokens.
  Pool global_pool = Pool::token;
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
/// The variant called `name`, or nullptr.
const VitVariant* find_variant(const std::string& name);

/// The `vit` plugin's recipe options: a variant and any architecture field overriding it, and dropout rates. The
/// architecture fields are unset unless given (the variant's then apply).
struct VitOptions {
  std::optional<std::string> variant;
  std::optional<std::int64_t> img_size;
  std::optional<std::int64_t> patch_size;
  std::optional<std::int64_t> embed_dim;
  std::optional<std::int64_t> depth;
  std::optional<std::int64_t> num_heads;
  std::int64_t in_chans = 3;
  std::optional<std::int64_t> num_classes;
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  bool class_token = true;
  VitConfig::Pool global_pool = VitConfig::Pool::token;
  /// Default: true for avg pooling, as timm.
  std::optional<bool> fc_norm;
  double drop_rate = 0.0;
  double pos_drop_rate = 0.0;
  double proj_drop_rate = 0.0;
  double attn_drop_rate = 0.0;
  double drop_path = 0.0;
};

/// The recipe keys of VitOptions, each declared once, with the checks that make a valid architecture (a known
/// variant or every architecture field, sizes that divide).
const OptionTable<VitOptions>& vit_option_table();

/// The architecture checked options describe.
VitConfig vit_config_from(const VitOptions& options);

}  // namespace peft::vit
