#include "llama_config.h"

#include <sys/sysinfo.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "llama_config_fields.h"
#include "llama_rope_config.h"

#include "peft/bounded_json.h"
#include "peft/error.h"

namespace peft::llama {
namespace {

using nlohmann::json;

// The architectures the backbone computes, each with the model_type transformers writes beside it.
const std::map<std::string, std::string>& known_architectures() {
  static const std::map<std::string, std::string> names{{"LlamaForCausalLM", "llama"},
                                                        {"MistralForCausalLM", "mistral"}};
  return names;
}

void check_architecture(const ConfigFields& fields) {
  const json architectures = fields.object().value("architectures", json::array());
  std::string found;
  if (architectures.is_array()) {
    for (const auto& name : architectures) {
      if (name.is_string() && known_architectures().count(name.get<std::string>()) != 0) found = name;
    }
  }
  if (found.empty()) {
    fields.fail("architectures", "= " + architectures.dump() +
                                     ", expected LlamaForCausalLM (or MistralForCausalLM: LLaMA with a window)");
  }
  const std::string expected = known_architectures().at(found);
  const std::string model_type = fields.text("model_type", expected);
  if (model_type != expected) {
    fields.fail("model_type", "= '" + model_type + "' contradicts architectures = " + architectures.dump() +
                                  " (expected '" + expected + "')");
  }
}

// `dtype` (transformers 5) or `torch_dtype` (4.x): the dtype the weights were saved in. peft computes in float32
// whatever it is, but a name it does not know is a file it cannot vouch for.
std::string stored_dtype(const ConfigFields& fields) {
  static const std::set<std::string> known{"float32", "float16", "bfloat16", "float64"};
  std::string dtype;
  for (const char* key : {"dtype", "torch_dtype"}) {
    if (!fields.has(key)) continue;
    const std::string given = fields.text(key, "");
    if (known.count(given) == 0) {
      fields.fail(key, "= '" + given + "' is not a dtype peft reads (expected float32, bfloat16, float16 or float64)");
    }
    if (!dtype.empty() && given != dtype) fields.fail(key, "= '" + given + "' contradicts dtype = '" + dtype + "'");
    dtype = given;
  }
  return dtype.empty() ? "float32" : dtype;
}

// A token id field (one id, or a list as Llama 3's eos_token_id): each must be a token of the vocabulary.
std::vector<std::int64_t> token_ids(const ConfigFields& fields, const std::string& field, std::int64_t vocab_size) {
  if (!fields.has(field)) return {};
  const json& given = fields.at(field);
  const json ids = given.is_array() ? given : json::array({given});
  std::vector<std::int64_t> result;
  for (const auto& id : ids) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= vocab_size) {
      fields.fail(field,
                  "= " + given.dump() + ", expected token ids in [0, " + std::to_string(vocab_size) + ") (vocab_size)");
    }
    result.push_back(id.get<std::int64_t>());
  }
  return result;
}

std::optional<std::int64_t> first_of(const std::vector<std::int64_t>& ids) {
  return ids.empty() ? std::nullopt : std::optional<std::int64_t>(ids.front());
}

// The model's float32 bytes, from the sizes alone; more than the machine's memory and swap is refused before
// anything is allocated, naming the sizes (LibTorch's own failure is a 30-line dump without them).
void check_model_fits(const ConfigFields& fields, const LlamaConfig& c) {
  const long double hidden = static_cast<long double>(c.hidden_size);
  const long double attention = hidden * c.head_dim * (2.0L * c.num_attention_heads + 2.0L * c.num_key_value_heads);
  const long double mlp = 3.0L * hidden * c.intermediate_size;
  const long double parameters = c.num_hidden_layers * (attention + mlp) + 2.0L * c.vocab_size * hidden;
  const long double bytes = 4.0L * parameters;
  struct sysinfo info {};
  if (::sysinfo(&info) != 0) return;
  const long double memory = (static_cast<long double>(info.totalram) + info.totalswap) * info.mem_unit;
  if (bytes <= memory) return;
  char text[200];
  std::snprintf(text, sizeof text,
                "%.3Lg parameters, %.3Lg bytes in float32, more than this machine's %.3Lg bytes "
                "of memory and swap",
                parameters, bytes, memory);
  fields.fail("hidden_size", "= " + std::to_string(c.hidden_size) +
                                 ", intermediate_size = " + std::to_string(c.intermediate_size) +
                                 ", vocab_size = " + std::to_string(c.vocab_size) +
                                 " and num_hidden_layers = " + std::to_string(c.num_hidden_layers) + " make " + text);
}

json parse_config_file(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    throw Error("llama", file.string() + (std::filesystem::exists(file, error) ? " is not a file" : " does not exist") +
                             " (a model folder needs config.json)");
  }
  std::ifstream in(file);
  if (!in) throw Error("llama", file.string() + " cannot be read (a model folder needs config.json)");
  json config = parse_bounded_json(in, "llama", file.string());
  if (!config.is_object()) throw Error("llama", file.string() + " is not a JSON object");
  return config;
}

}  // namespace

LlamaConfig read_llama_config(const std::filesystem::path& file) {
  const ConfigFields fields(file.string(), parse_config_file(file));
  check_architecture(fields);
  const std::string act = fields.text("hidden_act", "silu");
  if (act != "silu") fields.fail("hidden_act", "= '" + act + "' is not supported (LLaMA uses silu)");
  if (fields.has("sliding_window") && fields.flag("use_sliding_window", true)) {
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
  check_model_fits(fields, result);
  result.rms_norm_eps = fields.number("rms_norm_eps", 1e-6);
  const RopeSettings rope = read_rope_settings(fields);
  result.rope_theta = rope.theta;
  result.rope_scaling = rope.scaling;
  result.initializer_range = fields.number("initializer_range", 0.02);
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
  result.dtype = stored_dtype(fields);
  result.bos_token_id = first_of(token_ids(fields, "bos_token_id", result.vocab_size));
  result.eos_token_ids = token_ids(fields, "eos_token_id", result.vocab_size);
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
