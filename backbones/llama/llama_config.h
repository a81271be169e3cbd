#pragma once
// A Hugging Face LlamaConfig (config.json) as the llama backbone reads it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "peft/attention.h"
#include "peft/option_table.h"

namespace peft::llama {

/// RoPE frequency scaling (`rope_scaling`): none, "linear" (positions divided by `factor`) or Llama-3.x's "llama3"
/// (long wavelengths divided by `factor`, short ones kept, a smooth band between).
struct RopeScaling {
  std::string type = "none";
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  /// Key/value heads (grouped-query attention); equal to num_attention_heads without GQA.
  std::int64_t num_key_value_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t vocab_size = 0;
  std::int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  /// The standard deviation of a new model's weights (HF's _init_weights); a checkpoint overwrites them.
  double initializer_range = 0.02;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  /// Dropout on the attention weights while training (config.json's attention_dropout; HF's default 0).
  double attention_dropout = 0.0;
  /// config.json's `dtype` (transformers 5) or `torch_dtype`: what the weights were saved in (float32 when unset).
  /// peft computes in float32 whatever it is.
  std::string dtype = "float32";
  std::optional<std::int64_t> bos_token_id;
  /// Every end-of-sequence id (Llama 3 lists several).
  std::vector<std::int64_t> eos_token_ids;
  /// The file it was read from, for messages.
  std::string source;

  // Set by the recipe's options, not config.json.
  AttentionKernel attention = AttentionKernel::automatic;
  /// `lm_head` is a site (untied heads only).
  bool lm_head_site = false;
};

/// The recipe's [backbone.options]: where config.json is, and the few settings a run may change. The architecture
/// itself comes from config.json only.
struct LlamaOptions {
  /// The model folder's config.json (model_builder sets it from `[backbone] checkpoint = FOLDER`).
  std::optional<std::string> config;
  /// Overrides max_position_embeddings: the longest sequence a run accepts.
  std::optional<std::int64_t> max_length;
  /// Overrides config.json's attention_dropout.
  std::optional<double> attention_dropout;
  AttentionKernel attention = AttentionKernel::automatic;
  /// Lists `lm_head` among the sites, so targets can select it (HF peft's target_modules = ["lm_head"]).
  bool lm_head_site = false;
};

const OptionTable<LlamaOptions>& llama_option_table();

/// config.json (options.config) with the options applied; a peft::Error names the file or the option.
LlamaConfig llama_config_from(const LlamaOptions& options);

/// Reads `file` (a config.json, as transformers 4.x or 5.x writes it): `architectures` must name LlamaForCausalLM
/// (or MistralForCausalLM) and `model_type` agree with it, the sizes must be positive and consistent (heads divide
/// hidden_size unless head_dim is given, key/value heads divide the heads), `hidden_act` must be silu, RoPE (either
/// layout, llama_rope_config.h) default, linear or llama3 with only the keys peft applies, `dtype`/`torch_dtype` a
/// known dtype, token ids inside the vocabulary, and a sliding window is refused; each problem is a one-line
/// peft::Error naming the file and the field.
LlamaConfig read_llama_config(const std::filesystem::path& file);

}  // namespace peft::llama
