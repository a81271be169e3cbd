#pragma once
// A Hugging Face LlamaConfig (config.json) as the llama backbone reads it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

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
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  std::optional<std::int64_t> bos_token_id;
  std::optional<std::int64_t> eos_token_id;
  /// The file it was read from, for messages.
  std::string source;
};

/// Reads `file` (a config.json): `architectures` must name LlamaForCausalLM (or MistralForCausalLM), the sizes must
/// be positive and consistent (heads divide hidden_size unless head_dim is given, key/value heads divide the heads),
/// `hidden_act` must be silu, `rope_scaling` none, linear or llama3, and a sliding window is refused; each problem
/// is a one-line peft::Error naming the file and the field.
LlamaConfig read_llama_config(const std::filesystem::path& file);

}  // namespace peft::llama
