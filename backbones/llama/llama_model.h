#pragma once
// Hugging Face's LlamaForCausalLM as a peft backbone: token embedding, pre-norm decoder layers (RMSNorm in float32,
// grouped-query attention with RoPE in HF's rotate_half layout, SwiGLU MLP), final norm, LM head (tied to the
// embedding when the config says so). Module and parameter names are HF's (`model.layers.0.self_attn.q_proj`), so
// checkpoints load as they are and target patterns select as HF peft's target_modules do.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "llama_config.h"
#include "peft/backbone.h"

namespace peft::llama {

class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(std::int64_t size, double eps);
  /// HF's LlamaRMSNorm: normalised in float32, cast back, then scaled.
  at::Tensor forward(const at::Tensor& x);

 private:
  at::Tensor weight_;
  double eps_;
};
TORCH_MODULE(RmsNorm);

/// One layer's key/value cache [B, kv_heads, length, head_dim], and how many positions it already holds.
struct KvSlot {
  at::Tensor key;
  at::Tensor value;
  std::int64_t start = 0;
};

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const LlamaConfig& config, const std::string& prefix);
  /// x [B, T, D] → [B, T, D]; `key_mask` [B, T] (1: a real token) or undefined. With `cache`, x holds the tokens
  /// after `cache->start` cached ones: their keys and values are written into it and attention spans all of them.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& key_mask,
                     const KvSlot* cache = nullptr);
  std::vector<Site> sites() const { return {q_proj_, k_proj_, v_proj_, o_proj_}; }

 private:
  std::int64_t heads_;
  std::int64_t kv_heads_;
  std::int64_t head_dim_;
  double dropout_;
  AttentionKernel kernel_;
  Site q_proj_, k_proj_, v_proj_, o_proj_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(const LlamaConfig& config, const std::string& prefix);
  /// down(silu(gate(x)) · up(x)).
  at::Tensor forward(const at::Tensor& x);
  std::vector<Site> sites() const { return {gate_proj_, up_proj_, down_proj_}; }

 private:
  Site gate_proj_, up_proj_, down_proj_;
};
TORCH_MODULE(Mlp);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const LlamaConfig& config, std::int64_t index);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& key_mask,
                     const KvSlot* cache = nullptr);
  std::vector<Site> sites() const;

 private:
  RmsNorm input_layernorm_{nullptr};
  Attention self_attn_{nullptr};
  RmsNorm post_attention_layernorm_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// The `model.` part: embedding, layers, final norm.
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const LlamaConfig& config);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers;
  RmsNorm norm{nullptr};
};
TORCH_MODULE(Decoder);

class Llama final : public Backbone, public CausalLm, public ClassifierHead {
 public:
  explicit Llama(LlamaConfig config);

  std::vector<std::string> inputs() const override { return {keys::input_ids, keys::attention_mask}; }
  /// `input_ids` [B, T] (and, optionally, `attention_mask` [B, T], 1 for real tokens; right padding) →
  /// `hidden` [B, T, D] after the final norm and `logits` [B, T, vocabulary].
  Outputs forward(const Batch& batch) override;
  NamedTensors head_parameters() override;
  std::vector<Site> sites() override;
  /// Hugging Face's names: self_attn.{q,k,v,o}_proj; mlp.gate_proj and mlp.up_proj in, mlp.down_proj out.
  std::vector<std::string> role_patterns(SiteRole role) const override;
  std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) override;

  /// The model folder's tokenizer (tokenizer.model), read when first asked for; nullptr when the folder has none.
  const Tokenizer* tokenizer() override;
  CausalLm* causal_lm() override { return this; }
  /// A sequence-classification head, HF's LlamaForSequenceClassification `score` (no bias) over the hidden state of
  /// each sequence's last real token; with one, `logits` are [B, classes] and the LM head is left out of forward.
  ClassifierHead* classifier() override { return this; }
  std::int64_t num_classes() const override { return score_ ? score_->weight.size(0) : 0; }
  void reset_classifier(std::int64_t num_classes) override;
  /// `past.N.key` and `past.N.value` [sequences, kv_heads, length, head_dim] for each layer N.
  Batch allocate_cache(std::int64_t sequences, std::int64_t length, const at::TensorOptions& options) override;
  std::int64_t max_length() const override { return config_.max_position_embeddings; }

  const LlamaConfig& config() const { return config_; }

 private:
  LlamaConfig config_;
  /// RoPE's frequencies (float32; HF's non-persistent buffer: not in the state dict), moved to the input's device.
  at::Tensor inv_freq_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Decoder model_{nullptr};
  /// Untied heads only; a site when config.lm_head_site.
  Site lm_head_{nullptr};
  /// The sequence-classification head, when reset_classifier made one.
  torch::nn::Linear score_{nullptr};
};

}  // namespace peft::llama
