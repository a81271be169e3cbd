#include "llama_config.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "peft/error.h"

namespace peft::llama {
namespace {

using nlohmann::json;

class Fields {
 public:
  Fields(std::string file, json config) : file_(std::move(file)), config_(std::move(config)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw Error("llama", file_ + ": " + field + " " + message);
  }
  bool has(const std::string& field) const { return config_.contains(field) && !config_[field].is_null(); }
  const json& at(const std::string& field) const { return config_.at(field); }

  std::int64_t positive(const std::string& field, std::optional<std::int64_t> fallback = std::nullopt) const {
    if (!has(field)) {
      if (fallback) return *fallback;
      fail(field, "is missing, expected a positive integer");
    }
    if (!at(field).is_number_integer() || at(field).get<std::int64_t>() <= 0) {
      fail(field, "= " + at(field).dump() + ", expected a positive integer");
    }
    return at(field).get<std::int64_t>();
  }
  double number(const std::string& field, double fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_number() || !(at(field).get<double>() > 0)) {
      fail(field, "= " + at(field).dump() + ", expected a positive number");
    }
    return at(field).get<double>();
  }
  bool flag(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_boolean()) fail(field, "= " + at(field).dump() + ", expected true or false");
    return at(field).get<bool>();
  }
  std::optional<std::int64_t> token(const std::string& field) const {
    if (!has(field)) return std::nullopt;
    const json& value = at(field).is_array() && !at(field).empty() ? at(field)[0] : at(field);
    if (!value.is_number_integer()) fail(field, "= " + at(field).dump() + ", expected a token id");
    return value.get<std::int64_t>();
  }

 private:
  std::string file_;
  json config_;
};

RopeScaling rope_scaling(const Fields& fields) {
  RopeScaling scaling;
  if (!fields.has("rope_scaling")) return scaling;
  const json& given = fields.at("rope_scaling");
  if (!given.is_object()) fields.fail("rope_scaling", "is not an object");
  const std::string type = given.value("rope_type", given.value("type", std::string()));
  if (type == "default") return scaling;
  if (type != "linear" && type != "llama3") {
    fields.fail("rope_scaling", "type '" + type + "' is not supported (supported: linear, llama3)");
  }
  scaling.type = type;
  scaling.factor = given.value("factor", 1.0);
  if (!(scaling.factor >= 1.0)) fields.fail("rope_scaling.factor", "must be >= 1");
  if (type == "llama3") {
    scaling.low_freq_factor = given.value("low_freq_factor", 1.0);
    scaling.high_freq_factor = given.value("high_freq_factor", 4.0);
    scaling.original_max_position_embeddings = given.value("original_max_position_embeddings", std::int64_t{8192});
    if (!(scaling.high_freq_factor > scaling.low_freq_factor)) {
      fields.fail("rope_scaling.high_freq_factor", "must be larger than low_freq_factor");
    }
  }
  return scaling;
}

}  // namespace

LlamaConfig read_llama_config(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error("llama", file.string() + " cannot be read (a model folder needs config.json)");
  json config = json::parse(in, nullptr, false);
  if (!config.is_object()) throw Error("llama", file.string() + " is not a JSON object");
  const Fields fields(file.string(), config);

  const json architectures = config.value("architectures", json::array());
  bool known = false;
  for (const auto& name : architectures) {
    known = known || name == "LlamaForCausalLM" || name == "MistralForCausalLM";
  }
  if (!known) {
    fields.fail("architectures", "= " + architectures.dump() +
                                     ", expected LlamaForCausalLM (or MistralForCausalLM: LLaMA with a window)");
  }
  const std::string act = config.value("hidden_act", std::string("silu"));
  if (act != "silu") fields.fail("hidden_act", "= '" + act + "' is not supported (LLaMA uses silu)");
  if (fields.has("sliding_window") && config.value("use_sliding_window", true)) {
    fields.fail("sliding_window", "= " + fields.at("sliding_window").dump() +
                                      ": sliding-window attention is not supported (full causal attention only)");
  }

  LlamaConfig result;
  result.source = file.string();
  result.hidden_size = fields.positive("hidden_size");
  result.intermediate_size = fields.positive("intermediate_size");
  result.num_hidden_layers = fields.positive("num_hidden_layers");
  result.num_attention_heads = fields.positive("num_attention_heads");
  result.num_key_value_heads = fields.positive("num_key_value_heads", result.num_attention_heads);
  result.vocab_size = fields.positive("vocab_size");
  result.max_position_embeddings = fields.positive("max_position_embeddings", std::int64_t{2048});
  if (!fields.has("head_dim") && result.hidden_size % result.num_attention_heads != 0) {
    fields.fail("num_attention_heads", "= " + std::to_string(result.num_attention_heads) +
                                           " does not divide hidden_size = " + std::to_string(result.hidden_size));
  }
  result.head_dim = fields.positive("head_dim", result.hidden_size / result.num_attention_heads);
  if (result.head_dim % 2 != 0) fields.fail("head_dim", "must be even (RoPE rotates pairs)");
  if (result.num_attention_heads % result.num_key_value_heads != 0) {
    fields.fail("num_key_value_heads",
                "= " + std::to_string(result.num_key_value_heads) +
                    " does not divide num_attention_heads = " + std::to_string(result.num_attention_heads));
  }
  result.rms_norm_eps = fields.number("rms_norm_eps", 1e-6);
  result.rope_theta = fields.number("rope_theta", 10000.0);
  result.initializer_range = fields.number("initializer_range", 0.02);
  if (!(result.initializer_range > 0.0)) fields.fail("initializer_range", "must be positive");
  result.rope_scaling = rope_scaling(fields);
  result.tie_word_embeddings = fields.flag("tie_word_embeddings", false);
  result.attention_bias = fields.flag("attention_bias", false);
  result.mlp_bias = fields.flag("mlp_bias", false);
  if (fields.has("attention_dropout")) {
    const json& dropout = fields.at("attention_dropout");
    if (!dropout.is_number() || dropout.get<double>() < 0.0 || dropout.get<double>() >= 1.0) {
      fields.fail("attention_dropout", "= " + dropout.dump() + ", expected a number in [0, 1)");
    }
    result.attention_dropout = dropout.get<double>();
  }
  result.bos_token_id = fields.token("bos_token_id");
  result.eos_token_id = fields.token("eos_token_id");
  return result;
}

const OptionTable<LlamaOptions>& llama_option_table() {
  using O = LlamaOptions;
  static const auto table =
      OptionTable<O>()
          .add("config", &O::config, "the model folder's config.json (set from [backbone] checkpoint = FOLDER)")
          .add("max_length", &O::max_length,
               "longest sequence accepted (default: config.json's max_position_embeddings)")
          .at_least(1)
          .add("attention_dropout", &O::attention_dropout,
               "dropout on attention weights while training (default: config.json's)")
          .in_range(0.0, 1.0)
          .add_choice("attention", &O::attention,
                      {{"auto", AttentionKernel::automatic},
                       {"plain", AttentionKernel::plain},
                       {"sdpa", AttentionKernel::sdpa}},
                      "attention kernel: LibTorch's SDPA where the build has it, else plain")
          .add("lm_head_site", &O::lm_head_site, "make lm_head a site targets may select (untied heads only)");
  return table;
}

LlamaConfig llama_config_from(const LlamaOptions& options) {
  if (!options.config) {
    throw Error("llama", "[backbone] needs checkpoint = MODEL_FOLDER (or options.config = its config.json)");
  }
  LlamaConfig config = read_llama_config(*options.config);
  if (options.max_length) config.max_position_embeddings = *options.max_length;
  if (options.attention_dropout) config.attention_dropout = *options.attention_dropout;
  if (options.attention == AttentionKernel::sdpa && !sdpa_available()) {
    throw Error("llama",
                "attention = 'sdpa' needs LibTorch 2.1 or later, which this build is not (use 'plain' or 'auto')");
  }
  config.attention = options.attention;
  if (options.lm_head_site && config.tie_word_embeddings) {
    throw Error("llama", "lm_head_site = true needs an untied head, but " + config.source +
                             " has tie_word_embeddings = true (the head is the embedding)");
  }
  config.lm_head_site = options.lm_head_site;
  return config;
}

}  // namespace peft::llama
