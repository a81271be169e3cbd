#include "llama_model.h"

#include <ATen/ATen.h>

#include "llama_rope.h"
#include "llama_tokenizer.h"
#include "peft/error.h"
#include "peft/state_dict.h"

namespace fs = std::filesystem;

namespace peft::llama {
namespace {

Site make_site(const std::string& prefix, const std::string& name, std::int64_t in, std::int64_t out, bool bias) {
  return Site(prefix + "." + name, in, out, bias);
}

}  // namespace

RmsNormImpl::RmsNormImpl(std::int64_t size, double eps)
    : weight_(register_parameter("weight", at::ones({size}))), eps_(eps) {}

at::Tensor RmsNormImpl::forward(const at::Tensor& x) {
  const at::Tensor h = x.to(at::kFloat);
  return weight_ * (h * at::rsqrt(h.pow(2).mean(-1, true) + eps_)).to(x.scalar_type());
}

AttentionImpl::AttentionImpl(const LlamaConfig& config, const std::string& prefix)
    : heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      dropout_(config.attention_dropout),
      kernel_(config.attention),
      q_proj_(register_module(
          "q_proj", make_site(prefix, "q_proj", config.hidden_size, heads_ * head_dim_, config.attention_bias))),
      k_proj_(register_module(
          "k_proj", make_site(prefix, "k_proj", config.hidden_size, kv_heads_ * head_dim_, config.attention_bias))),
      v_proj_(register_module(
          "v_proj", make_site(prefix, "v_proj", config.hidden_size, kv_heads_ * head_dim_, config.attention_bias))),
      o_proj_(register_module(
          "o_proj", make_site(prefix, "o_proj", heads_ * head_dim_, config.hidden_size, config.attention_bias))) {}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                  const at::Tensor& key_mask, const KvSlot* cache) {
  const std::int64_t batch = x.size(0);
  const std::int64_t length = x.size(1);
  const auto heads_first = [&](const at::Tensor& t, std::int64_t heads) {
    return t.view({batch, length, heads, head_dim_}).transpose(1, 2);  // [B, H, T, hd]
  };
  at::Tensor q = heads_first(q_proj_(x), heads_);
  at::Tensor k = heads_first(k_proj_(x), kv_heads_);
  at::Tensor v = heads_first(v_proj_(x), kv_heads_);
  const at::Tensor c = cos.to(q.scalar_type());
  const at::Tensor s = sin.to(q.scalar_type());
  q = q * c + rotate_half(q) * s;
  k = k * c + rotate_half(k) * s;
  std::int64_t start = 0;
  if (cache != nullptr) {  // the new tokens' keys and values join the cached ones
    start = cache->start;
    cache->key.narrow(2, start, length).copy_(k);
    cache->value.narrow(2, start, length).copy_(v);
    k = cache->key.narrow(2, 0, start + length);
    v = cache->value.narrow(2, 0, start + length);
  }
  AttentionSpec spec;
  spec.causal = true;  // query t (position start + t) reads keys 0..start + t
  spec.past = start;
  spec.key_mask = key_mask;
  spec.dropout = is_training() ? dropout_ : 0.0;
  spec.kernel = kernel_;
  const at::Tensor out = peft::attention(q, k, v, spec).transpose(1, 2).reshape({batch, length, heads_ * head_dim_});
  return o_proj_(out);
}

MlpImpl::MlpImpl(const LlamaConfig& config, const std::string& prefix)
    : gate_proj_(register_module(
          "gate_proj", make_site(prefix, "gate_proj", config.hidden_size, config.intermediate_size, config.mlp_bias))),
      up_proj_(register_module(
          "up_proj", make_site(prefix, "up_proj", config.hidden_size, config.intermediate_size, config.mlp_bias))),
      down_proj_(register_module(
          "down_proj", make_site(prefix, "down_proj", config.intermediate_size, config.hidden_size, config.mlp_bias))) {
}

at::Tensor MlpImpl::forward(const at::Tensor& x) { return down_proj_(at::silu(gate_proj_(x)) * up_proj_(x)); }

DecoderLayerImpl::DecoderLayerImpl(const LlamaConfig& config, std::int64_t index) {
  const std::string prefix = "model.layers." + std::to_string(index);
  input_layernorm_ = register_module("input_layernorm", RmsNorm(config.hidden_size, config.rms_norm_eps));
  self_attn_ = register_module("self_attn", Attention(config, prefix + ".self_attn"));
  post_attention_layernorm_ =
      register_module("post_attention_layernorm", RmsNorm(config.hidden_size, config.rms_norm_eps));
  mlp_ = register_module("mlp", Mlp(config, prefix + ".mlp"));
}

at::Tensor DecoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                     const at::Tensor& key_mask, const KvSlot* cache) {
  const at::Tensor h = x + self_attn_->forward(input_layernorm_(x), cos, sin, key_mask, cache);
  return h + mlp_(post_attention_layernorm_(h));
}

std::vector<Site> DecoderLayerImpl::sites() const {
  std::vector<Site> all = self_attn_->sites();
  for (const Site& site : mlp_->sites()) all.push_back(site);
  return all;
}

DecoderImpl::DecoderImpl(const LlamaConfig& config) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) layers->push_back(DecoderLayer(config, i));
  layers = register_module("layers", layers);
  norm = register_module("norm", RmsNorm(config.hidden_size, config.rms_norm_eps));
}

Llama::Llama(LlamaConfig config) : config_(std::move(config)), inv_freq_(rope_inverse_frequencies(config_)) {
  model_ = register_module("model", Decoder(config_));
  if (!config_.tie_word_embeddings) {
    lm_head_ = register_module("lm_head", Site("lm_head", config_.hidden_size, config_.vocab_size, false));
  }
  // As transformers' LlamaPreTrainedModel._init_weights, so a model pretrained from config.json alone starts as
  // one made by from_config: every matrix and the embedding N(0, initializer_range), biases zero, norms one. Only
  // for a folder without weights: a checkpoint overwrites them, and the draws would shift the seeded random numbers
  // a method's initialisation gets after the backbone's.
  const fs::path folder = fs::path(config_.source).parent_path();
  if (fs::exists(folder / "model.safetensors") || fs::exists(folder / "model.safetensors.index.json")) return;
  const torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& parameter = item.value();
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0) {
      parameter.zero_();
    } else if (parameter.dim() == 2) {
      parameter.normal_(0.0, config_.initializer_range);
    }
  }
}

Outputs Llama::forward(const Batch& batch) {
  const at::Tensor& ids = batch.at(keys::input_ids);
  const std::int64_t length = ids.size(1);
  const bool cached = batch.has(keys::cache_position);
  const std::int64_t start = cached ? batch.at(keys::cache_position).item<std::int64_t>() : 0;
  if (start + length > config_.max_position_embeddings) {
    throw Error("llama", "a sequence of " + std::to_string(start + length) +
                             " tokens is longer than the model's maximum of " +
                             std::to_string(config_.max_position_embeddings) + " (max_position_embeddings in " +
                             config_.source + ", or the backbone option max_length)");
  }
  if (inv_freq_.device() != ids.device()) inv_freq_ = inv_freq_.to(ids.device());
  const auto [cos, sin] = rope_tables(inv_freq_, start, length);
  const at::Tensor key_mask = batch.get(keys::attention_mask);
  at::Tensor h = model_->embed_tokens(ids);
  std::int64_t index = 0;
  for (const auto& layer : *model_->layers) {
    std::optional<KvSlot> slot;
    if (cached) {
      const std::string prefix = "past." + std::to_string(index);
      slot = KvSlot{batch.at(prefix + ".key"), batch.at(prefix + ".value"), start};
    }
    h = layer->as<DecoderLayer>()->forward(h, cos, sin, key_mask, slot ? &*slot : nullptr);
    ++index;
  }
  h = model_->norm(h);
  if (score_) {  // the last real token of each (right-padded) sequence
    const at::Tensor last =
        key_mask.defined() ? key_mask.sum(1).sub(1).clamp_min(0) : at::full({ids.size(0)}, length - 1, ids.options());
    const at::Tensor rows = last.to(at::kLong).view({-1, 1, 1}).expand({h.size(0), 1, h.size(2)});
    const at::Tensor pooled = h.gather(1, rows).squeeze(1);
    return {{keys::hidden, h}, {keys::logits, score_(pooled)}};
  }
  const at::Tensor logits = lm_head_ ? lm_head_(h) : peft::linear(h, model_->embed_tokens->weight);
  return {{keys::hidden, h}, {keys::logits, logits}};
}

void Llama::reset_classifier(std::int64_t num_classes) {
  if (num_classes == 0) {
    if (score_) unregister_module("score");
    score_ = nullptr;
    return;
  }
  const at::Tensor any = model_->embed_tokens->weight;
  auto score = torch::nn::Linear(torch::nn::LinearOptions(config_.hidden_size, num_classes).bias(false));
  score->to(any.device(), any.scalar_type());
  if (score_) unregister_module("score");
  score_ = register_module("score", score);
}

Batch Llama::allocate_cache(std::int64_t sequences, std::int64_t length, const at::TensorOptions& options) {
  Batch cache;
  for (std::int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    for (const char* part : {".key", ".value"}) {
      cache.set("past." + std::to_string(i) + part,
                at::zeros({sequences, config_.num_key_value_heads, length, config_.head_dim}, options));
    }
  }
  return cache;
}

NamedTensors Llama::head_parameters() {
  if (score_) return {{"score.weight", score_->weight}};
  if (lm_head_) return {{"lm_head.weight", lm_head_->weight}};
  return {};  // tied: the head is the embedding, which a method may train on its own terms
}

std::vector<Site> Llama::sites() {
  std::vector<Site> all;
  for (const auto& layer : *model_->layers) {
    for (const Site& site : layer->as<DecoderLayer>()->sites()) all.push_back(site);
  }
  if (config_.lm_head_site) all.push_back(lm_head_);
  return all;
}

std::vector<std::string> Llama::role_patterns(SiteRole role) const {
  switch (role) {
    case SiteRole::attention_query:
      return {"self_attn.q_proj"};
    case SiteRole::attention_key:
      return {"self_attn.k_proj"};
    case SiteRole::attention_value:
      return {"self_attn.v_proj"};
    case SiteRole::attention_output:
      return {"self_attn.o_proj"};
    case SiteRole::mlp_input:
      return {"mlp.gate_proj", "mlp.up_proj"};
    case SiteRole::mlp_output:
      return {"mlp.down_proj"};
  }
  return {};
}

const Tokenizer* Llama::tokenizer() {
  const fs::path folder = fs::path(config_.source).parent_path();
  if (!tokenizer_ && SentencePieceTokenizer::present(folder)) {
    tokenizer_ = std::make_unique<SentencePieceTokenizer>(folder, config_.vocab_size);
  }
  return tokenizer_.get();
}

std::vector<std::string> Llama::load_checkpoint(const CheckpointSource& checkpoint) {
  load_state_dict(*this, checkpoint);
  return {};
}

}  // namespace peft::llama
