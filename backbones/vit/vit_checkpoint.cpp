// Loading timm checkpoints into a VisionTransformer: position embeddings resampled to the model's grid, heads of
// another size adopted or dropped, everything else strict.
#include <peft/error.h>
#include <peft/state_dict.h>
#include <torch/nn/functional/upsampling.h>

#include <cmath>

#include "vision_transformer.h"

namespace peft::vit {
namespace {

bool is_head_key(const std::string& name) { return name == "head.weight" || name == "head.bias"; }

}  // namespace

torch::Tensor resample_pos_embed(const torch::Tensor& pos_embed, std::int64_t grid, std::int64_t num_prefix_tokens) {
  const std::int64_t old_tokens = pos_embed.size(1) - num_prefix_tokens;
  const auto old_grid = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(old_tokens))));
  TORCH_CHECK(old_grid * old_grid == old_tokens, "pos_embed has ", old_tokens, " patch tokens, not a square grid");
  if (old_grid == grid) return pos_embed;
  const std::int64_t dim = pos_embed.size(2);
  const torch::Tensor prefix = pos_embed.slice(1, 0, num_prefix_tokens);
  torch::Tensor patches = pos_embed.slice(1, num_prefix_tokens).to(torch::kFloat);
  patches = patches.reshape({1, old_grid, old_grid, dim}).permute({0, 3, 1, 2});
  namespace F = torch::nn::functional;
  patches = F::interpolate(patches, F::InterpolateFuncOptions()
                                        .size(std::vector<std::int64_t>{grid, grid})
                                        .mode(torch::kBicubic)
                                        .align_corners(false)
                                        .antialias(true));
  patches = patches.permute({0, 2, 3, 1}).reshape({1, grid * grid, dim}).to(pos_embed.scalar_type());
  return torch::cat({prefix, patches}, 1);
}

std::vector<std::string> VisionTransformer::load_checkpoint(const CheckpointSource& source) {
  const TensorFile checkpoint = source.read_all();  // a ViT's checkpoint is small enough to handle whole
  std::vector<std::string> notices;
  NamedTensors tensors;
  const torch::Tensor* head_weight = checkpoint.find("head.weight");
  // A head of another size: adopted when the recipe left num_classes unset, dropped when it asked for its own.
  bool drop_head = false;
  if (head_weight != nullptr && head_weight->size(0) != config_.num_classes) {
    if (config_.num_classes_set) {
      drop_head = true;
      notices.push_back("checkpoint head has " + std::to_string(head_weight->size(0)) +
                        " classes, the recipe asks for " + std::to_string(config_.num_classes) +
                        ": the head starts fresh");
    } else {
      reset_classifier(head_weight->size(0));
    }
  }
  if (head_weight == nullptr && head_) {
    notices.push_back("checkpoint has no head: the head starts fresh");
  }
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (is_head_key(name) && drop_head) continue;
    if (name == "pos_embed" && tensor.dim() == 3 && pos_embed_.defined() && tensor.sizes() != pos_embed_.sizes()) {
      const torch::Tensor resampled = resample_pos_embed(tensor, config_.grid_size(), config_.num_prefix_tokens());
      notices.push_back("position embedding resampled from " + std::to_string(tensor.size(1)) + " to " +
                        std::to_string(resampled.size(1)) + " tokens");
      tensors.emplace_back(name, resampled);
      continue;
    }
    tensors.emplace_back(name, tensor);
  }
  if (head_ && (drop_head || head_weight == nullptr)) {
    // Strict for everything but the fresh head: give the loader the head's own values.
    tensors.emplace_back("head.weight", head_->weight);
    tensors.emplace_back("head.bias", head_->bias);
  }
  load_state_dict(*this, tensors, checkpoint.source);
  return notices;
}

}  // namespace peft::vit
