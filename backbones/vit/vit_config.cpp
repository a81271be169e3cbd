#include "vit_config.h"

#include <peft/error.h>

namespace peft::vit {
namespace {

[[noreturn]] void bad_value(const Options& options, const std::string& key, const std::string& expected) {
  throw Error("vit", options.context() + ": " + key + " " + expected);
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

const std::vector<OptionSpec>& vit_option_specs() {
  using T = OptionType;
  static const std::vector<OptionSpec> specs{
      {"variant", T::string, std::nullopt, "named architecture, e.g. vit_base_patch16_224 (see README)"},
      {"img_size", T::integer, std::nullopt, "input image size in pixels (default: the variant's)"},
      {"patch_size", T::integer, std::nullopt, "patch size in pixels (default: the variant's)"},
      {"embed_dim", T::integer, std::nullopt, "token width (default: the variant's)"},
      {"depth", T::integer, std::nullopt, "number of blocks (default: the variant's)"},
      {"num_heads", T::integer, std::nullopt, "attention heads (default: the variant's)"},
      {"in_chans", T::integer, std::int64_t{3}, "input channels"},
      {"num_classes", T::integer, std::nullopt,
       "head size; 0 = no head (default: the checkpoint's head, else 1000); a checkpoint head of another size is "
       "dropped"},
      {"mlp_ratio", T::number, 4.0, "MLP hidden width / embed_dim"},
      {"qkv_bias", T::boolean, true, "bias on the fused qkv projection"},
      {"class_token", T::boolean, true, "prepend a class token"},
      {"global_pool", T::string, std::string("token"), "pooling before the head: token | avg"},
      {"fc_norm", T::boolean, std::nullopt, "norm after pooling instead of before (default: true for avg)"},
      {"drop_rate", T::number, 0.0, "dropout before the head"},
      {"pos_drop_rate", T::number, 0.0, "dropout after the position embedding"},
      {"proj_drop_rate", T::number, 0.0, "dropout after attention and MLP projections"},
      {"attn_drop_rate", T::number, 0.0, "dropout on attention weights"},
      {"drop_path", T::number, 0.0, "stochastic depth rate at the last block (linear over depth)"},
  };
  return specs;
}

VitConfig vit_config_from_options(const Options& options) {
  VitConfig config;
  const VitVariant* variant = nullptr;
  if (options.has("variant")) {
    const std::string name = options.get<std::string>("variant");
    for (const auto& candidate : vit_variants()) {
      if (name == candidate.name) variant = &candidate;
    }
    if (variant == nullptr)
      bad_value(options, "variant", "'" + name + "' is unknown, expected one of: " + variant_names());
  }
  const auto architecture = [&](const char* key, std::int64_t VitVariant::*field) -> std::int64_t {
    if (options.has(key)) return options.get<std::int64_t>(key);
    if (variant == nullptr) bad_value(options, key, "is not set and no variant is given (set variant, or every field)");
    return variant->*field;
  };
  config.img_size = architecture("img_size", &VitVariant::img_size);
  config.patch_size = architecture("patch_size", &VitVariant::patch_size);
  config.embed_dim = architecture("embed_dim", &VitVariant::embed_dim);
  config.depth = architecture("depth", &VitVariant::depth);
  config.num_heads = architecture("num_heads", &VitVariant::num_heads);
  config.in_chans = options.get<std::int64_t>("in_chans");
  config.num_classes_set = options.has("num_classes");
  config.num_classes = options.get_or<std::int64_t>("num_classes", 1000);
  config.mlp_ratio = options.get<double>("mlp_ratio");
  config.qkv_bias = options.get<bool>("qkv_bias");
  config.class_token = options.get<bool>("class_token");
  config.global_pool = options.get<std::string>("global_pool");
  config.fc_norm = options.get_or<bool>("fc_norm", config.global_pool == "avg");
  config.drop_rate = options.get<double>("drop_rate");
  config.pos_drop_rate = options.get<double>("pos_drop_rate");
  config.proj_drop_rate = options.get<double>("proj_drop_rate");
  config.attn_drop_rate = options.get<double>("attn_drop_rate");
  config.drop_path_rate = options.get<double>("drop_path");

  for (const auto& [key, value] : {std::pair{"img_size", config.img_size},
                                   {"patch_size", config.patch_size},
                                   {"embed_dim", config.embed_dim},
                                   {"depth", config.depth},
                                   {"num_heads", config.num_heads},
                                   {"in_chans", config.in_chans}}) {
    if (value <= 0) bad_value(options, key, "= " + std::to_string(value) + ", expected a positive integer");
  }
  if (config.num_classes < 0) {
    bad_value(options, "num_classes", "= " + std::to_string(config.num_classes) + ", expected 0 or more");
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
  if (config.mlp_ratio <= 0) bad_value(options, "mlp_ratio", "must be positive");
  if (config.global_pool != "token" && config.global_pool != "avg") {
    bad_value(options, "global_pool", "= '" + config.global_pool + "', expected token or avg");
  }
  if (config.global_pool == "token" && !config.class_token) {
    bad_value(options, "global_pool", "= 'token' needs class_token = true");
  }
  for (const auto& [key, rate] : {std::pair{"drop_rate", config.drop_rate},
                                  {"pos_drop_rate", config.pos_drop_rate},
                                  {"proj_drop_rate", config.proj_drop_rate},
                                  {"attn_drop_rate", config.attn_drop_rate},
                                  {"drop_path", config.drop_path_rate}}) {
    if (rate < 0.0 || rate >= 1.0) bad_value(options, key, "= " + std::to_string(rate) + ", expected [0, 1)");
  }
  return config;
}

}  // namespace peft::vit
