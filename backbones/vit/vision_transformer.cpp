#include "vision_transformer.h"

#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/init.h>

#include <cmath>

namespace peft::vit {
namespace {

// timm's trunc_normal_: inverse-CDF sampling of a normal truncated to [mean-2σ, mean+2σ].
void trunc_normal_(torch::Tensor tensor, double std) {
  torch::NoGradGuard no_grad;
  const auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double low = cdf(-2.0);
  const double high = cdf(2.0);
  tensor.uniform_(2 * low - 1, 2 * high - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(-2 * std, 2 * std);
}

}  // namespace

VisionTransformer::VisionTransformer(VitConfig config) : config_(std::move(config)) {
  const std::int64_t dim = config_.embed_dim;
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>("PatchEmbed"));
  patch_proj_ = patch_embed->register_module(
      "proj", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(config_.in_chans, dim, config_.patch_size).stride(config_.patch_size)));
  if (config_.class_token) cls_token_ = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  const std::int64_t tokens = config_.grid_size() * config_.grid_size() + config_.num_prefix_tokens();
  pos_embed_ = register_parameter("pos_embed", torch::zeros({1, tokens, dim}));
  pos_drop_ = register_module("pos_drop", torch::nn::Dropout(config_.pos_drop_rate));

  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config_.depth; ++i) {
    const double rate = config_.depth > 1
                            ? config_.drop_path_rate * static_cast<double>(i) / static_cast<double>(config_.depth - 1)
                            : config_.drop_path_rate;
    block_list_.emplace_back("blocks." + std::to_string(i), dim, config_.num_heads, config_.mlp_ratio, config_.qkv_bias,
                             config_.proj_drop_rate, config_.attn_drop_rate, rate);
    blocks_->push_back(block_list_.back());
  }
  if (config_.fc_norm) {
    fc_norm_ = register_module("fc_norm", layer_norm(dim));
  } else {
    norm_ = register_module("norm", layer_norm(dim));
  }
  head_drop_ = register_module("head_drop", torch::nn::Dropout(config_.drop_rate));
  reset_classifier(config_.num_classes);
  init_weights();
}

void VisionTransformer::init_weights() {
  torch::NoGradGuard no_grad;
  trunc_normal_(pos_embed_, 0.02);
  if (cls_token_.defined()) torch::nn::init::normal_(cls_token_, 0.0, 1e-6);
  for (auto& site : sites()) {
    trunc_normal_(site->weight, 0.02);
    if (site->has_bias()) site->bias.zero_();
  }
}

void VisionTransformer::reset_classifier(std::int64_t num_classes) {
  TORCH_CHECK(num_classes >= 0, "num_classes must be >= 0, got ", num_classes);
  config_.num_classes = num_classes;
  if (num_classes == 0) {
    if (head_) unregister_module("head");
    head_ = nullptr;
    return;
  }
  auto head = torch::nn::Linear(config_.embed_dim, num_classes);
  {
    torch::NoGradGuard no_grad;
    trunc_normal_(head->weight, 0.02);
    head->bias.zero_();
  }
  if (pos_embed_.defined()) head->to(pos_embed_.device(), pos_embed_.scalar_type());
  head_ = head_ ? replace_module("head", head) : register_module("head", head);
}

Outputs VisionTransformer::forward(const Batch& batch) {
  torch::Tensor hidden = forward_features(batch.at(keys::images));
  torch::Tensor logits = forward_head(hidden);
  return {{keys::hidden, std::move(hidden)}, {keys::logits, std::move(logits)}};
}

torch::Tensor VisionTransformer::forward_features(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == config_.in_chans && images.size(2) == config_.img_size &&
                  images.size(3) == config_.img_size,
              "vit expects images [B, ", config_.in_chans, ", ", config_.img_size, ", ", config_.img_size, "], got ",
              images.sizes());
  torch::Tensor x = patch_proj_(images).flatten(2).transpose(1, 2);  // [B, g², D]
  if (cls_token_.defined()) x = torch::cat({cls_token_.expand({x.size(0), -1, -1}), x}, 1);
  x = pos_drop_(x + pos_embed_);

  const TransformerHooks& hook = hooks();
  for (std::int64_t i = 0; i < config_.depth; ++i) {
    if (hook.block_input) x = hook.block_input(i, x);
    const torch::Tensor value_input = hook.value_input ? hook.value_input(i) : torch::Tensor();
    torch::Tensor out = block_list_[static_cast<std::size_t>(i)]->forward(x, value_input);
    if (hook.block_output) hook.block_output(i, x, out);
    x = std::move(out);
  }
  return norm_ ? norm_(x) : x;
}

torch::Tensor VisionTransformer::pre_logits(const torch::Tensor& features) {
  torch::Tensor pooled = config_.global_pool == VitConfig::Pool::avg
                             ? features.slice(1, config_.num_prefix_tokens()).mean(1)
                             : features.select(1, 0);
  if (fc_norm_) pooled = fc_norm_(pooled);
  return head_drop_(pooled);
}

torch::Tensor VisionTransformer::forward_head(const torch::Tensor& features) {
  const torch::Tensor pooled = pre_logits(features);
  return head_ ? head_(pooled) : pooled;
}

NamedTensors VisionTransformer::head_parameters() {
  NamedTensors parameters;
  if (!head_) return parameters;
  for (const auto& item : head_->named_parameters()) parameters.emplace_back("head." + item.key(), item.value());
  return parameters;
}

std::vector<Site> VisionTransformer::sites() {
  std::vector<Site> result;
  for (auto& block : block_list_) {
    result.insert(result.end(), {block->attn->qkv, block->attn->proj, block->mlp->fc1, block->mlp->fc2});
  }
  return result;
}

std::vector<std::string> VisionTransformer::role_patterns(SiteRole role) const {
  switch (role) {
    case SiteRole::attention_query:
    case SiteRole::attention_key:
    case SiteRole::attention_value:
      return {"attn.qkv"};
    case SiteRole::attention_output:
      return {"attn.proj"};
    case SiteRole::mlp_input:
      return {"mlp.fc1"};
    case SiteRole::mlp_output:
      return {"mlp.fc2"};
  }
  return {};
}

Preprocessing VisionTransformer::preprocessing() const {
  // timm's pretrained ViTs (augreg) use mean = std = 0.5 and bicubic resizing.
  Preprocessing preprocessing;
  preprocessing.image_size = config_.img_size;
  return preprocessing;
}

}  // namespace peft::vit
