#include "vit_config.h"

#include <peft/error.h>

namespace peft::vit {
namespace {

[[noreturn]] void bad_value(const Options& options, const std::string& key, const std::string& expected) {
  throw Error("vit", options.context_of(key) + ": " + key + " " + expected);
}

std::string variant_names() {
  std::string names;
  for (const auto& variant : vit_variants()) names += (names.empty() ? "" : ", ") + std::string(variant.name);
  return names;
}

}  // namespace

const std::vector<VitVariant>& vit_variants() {
  static const std::vector<VitVariant> variants{
      {"vit_tiny_patch16_224", 224, 16, 192, 12, 3},
      {"vit_small_patch16_224", 224, 16, 384, 12, 6},
      {"vit_base_patch16_224", 224, 16, 768, 12, 12},
      {"vit_large_patch16_224", 224, 16, 1024, 24, 16},
      {"vit_base_patch32_224", 224, 32, 768, 12, 12},
      {"vit_base_patch16_384", 384, 16, 768, 12, 12},
      // Small ones for CPU work on 32×32 images (mini-vtab).
      {"vit_tiny_patch4_32", 32, 4, 192, 12, 3},
      {"vit_mini_patch4_32", 32, 4, 128, 6, 4},
      {"vit_pico_patch4_32", 32, 4, 64, 2, 2},
  };
  return variants;
}

const VitVariant* find_variant(const std::string& name) {
  for (const auto& candidate : vit_variants()) {
    if (name == candidate.name) return &candidate;
  }
  return nullptr;
}

namespace {

void check_architecture(const VitOptions& vit, const Options& options) {
  const VitVariant* variant = nullptr;
  if (vit.variant) {
    variant = find_variant(*vit.variant);
    if (variant == nullptr) {
      bad_value(options, "variant", "'" + *vit.variant + "' is unknown, expected one of: " + variant_names());
    }
  }
  const VitConfig config = vit_config_from(vit);
  for (const auto& [key, value] : {std::pair{"img_size", vit.img_size},
                                   {"patch_size", vit.patch_size},
                                   {"embed_dim", vit.embed_dim},
                                   {"depth", vit.depth},
                                   {"num_heads", vit.num_heads}}) {
    if (!value && variant == nullptr) {
      bad_value(options, key, "is not set and no variant is given (set variant, or every field)");
    }
  }
  if (config.img_size % config.patch_size != 0) {
    bad_value(options, "img_size",
              "= " + std::to_string(config.img_size) + " is not a multiple of patch_size " +
                  std::to_string(config.patch_size));
  }
  if (config.embed_dim % config.num_heads != 0) {
    bad_value(options, "embed_dim",
              "= " + std::to_string(config.embed_dim) + " is not a multiple of num_heads " +
                  std::to_string(config.num_heads));
  }
  if (config.global_pool == VitConfig::Pool::token && !config.class_token) {
    bad_value(options, "global_pool", "= 'token' needs class_token = true");
  }
}

}  // namespace

const OptionTable<VitOptions>& vit_option_table() {
  using O = VitOptions;
  using Pool = VitConfig::Pool;
  static const auto table =
      OptionTable<O>()
          .add("variant", &O::variant, "named architecture, e.g. vit_base_patch16_224 (see README)")
          .add("img_size", &O::img_size, "input image size in pixels (default: the variant's)")
          .at_least(1)
          .add("patch_size", &O::patch_size, "patch size in pixels (default: the variant's)")
          .at_least(1)
          .add("embed_dim", &O::embed_dim, "token width (default: the variant's)")
          .at_least(1)
          .add("depth", &O::depth, "number of blocks (default: the variant's)")
          .at_least(1)
          .add("num_heads", &O::num_heads, "attention heads (default: the variant's)")
          .at_least(1)
          .add("in_chans", &O::in_chans, "input channels")
          .at_least(1)
          .add("num_classes", &O::num_classes,
               "head size; 0 = no head (default: the checkpoint's head, else 1000); a checkpoint head of another size "
               "is dropped")
          .at_least(0)
          .add("mlp_ratio", &O::mlp_ratio, "MLP hidden width / embed_dim")
          .in_range(1e-6, 1e6)
          .add("qkv_bias", &O::qkv_bias, "bias on the fused qkv projection")
          .add("class_token", &O::class_token, "prepend a class token")
          .add_choice("global_pool", &O::global_pool, {{"token", Pool::token}, {"avg", Pool::avg}},
                      "pooling before the head")
          .add("fc_norm", &O::fc_norm, "norm after pooling instead of before (default: true for avg)")
          .add("drop_rate", &O::drop_rate, "dropout before the head")
          .in_range(0.0, 1.0)
          .add("pos_drop_rate", &O::pos_drop_rate, "dropout after the position embedding")
          .in_range(0.0, 1.0)
          .add("proj_drop_rate", &O::proj_drop_rate, "dropout after attention and MLP projections")
          .in_range(0.0, 1.0)
          .add("attn_drop_rate", &O::attn_drop_rate, "dropout on attention weights")
          .in_range(0.0, 1.0)
          .add("drop_path", &O::drop_path, "stochastic depth rate at the last block (linear over depth)")
          .in_range(0.0, 1.0)
          .alias("drop_path_rate")
          .check(check_architecture);
  return table;
}

VitConfig vit_config_from(const VitOptions& options) {
  VitConfig config;
  const VitVariant* variant = options.variant ? find_variant(*options.variant) : nullptr;
  const auto architecture = [&](const std::optional<std::int64_t>& given, std::int64_t VitVariant::*field) {
    if (given) return *given;
    return variant != nullptr ? variant->*field : std::int64_t{1};  // unset without a variant: refused by the checks
  };
  config.img_size = architecture(options.img_size, &VitVariant::img_size);
  config.patch_size = architecture(options.patch_size, &VitVariant::patch_size);
  config.embed_dim = architecture(options.embed_dim, &VitVariant::embed_dim);
  config.depth = architecture(options.depth, &VitVariant::depth);
  config.num_heads = architecture(options.num_heads, &VitVariant::num_heads);
  config.in_chans = options.in_chans;
  config.num_classes_set = options.num_classes.has_value();
  config.num_classes = options.num_classes.value_or(1000);
  config.mlp_ratio = options.mlp_ratio;
  config.qkv_bias = options.qkv_bias;
  config.class_token = options.class_token;
  config.global_pool = options.global_pool;
  config.fc_norm = options.fc_norm.value_or(options.global_pool == VitConfig::Pool::avg);
  config.drop_rate = options.drop_rate;
  config.pos_drop_rate = options.pos_drop_rate;
  config.proj_drop_rate = options.proj_drop_rate;
  config.attn_drop_rate = options.attn_drop_rate;
  config.drop_path_rate = options.drop_path;
  return config;
}

}  // namespace peft::vit
