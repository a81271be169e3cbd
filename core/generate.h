#pragma once
// Text generation with a causal LM backbone (and whatever method is attached to it): greedy by default, or
// sampling with temperature and top-p; a key/value cache makes each new token one token's forward.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "adapted_model.h"
#include "peft/registry.h"
#include "recipe.h"

namespace peft {

struct GenerateOptions {
  std::int64_t max_new_tokens = 64;
  /// 0: greedy (the most likely token each step); above 0: sampling from softmax(logits / temperature).
  double temperature = 0.0;
  /// Sampling keeps the most likely tokens whose probabilities sum to top_p (1: all).
  double top_p = 1.0;
  std::uint64_t seed = 0;
  /// Off: every step runs the whole sequence again (what the cache must equal).
  bool use_cache = true;
  /// Also keep each step's logits (tests).
  bool keep_logits = false;
};

struct Generation {
  std::vector<std::int64_t> new_ids;
  /// The new tokens as text (when a tokenizer made the prompt).
  std::string text;
  bool stopped_at_eos = false;
  /// [vocabulary] per step, with keep_logits.
  std::vector<at::Tensor> logits;
};

/// Continues `prompt_ids` (one sequence) until `eos_id` (when given) or max_new_tokens. The backbone must be a
/// causal LM (Backbone::causal_lm()); a prompt that leaves no room before its maximum length is a peft::Error.
Generation generate_ids(AdaptedModel& model, const std::vector<std::int64_t>& prompt_ids,
                        std::optional<std::int64_t> eos_id, const GenerateOptions& options);

/// `prompt` through the backbone's tokenizer (BOS as it adds it), generated, decoded.
Generation generate_text(AdaptedModel& model, const std::string& prompt, const GenerateOptions& options);

/// `prompt` as the run whose recipe is `recipe` saw its prompts in training: a causal-LM run on Alpaca records (its
/// `[data] template`, or `auto` resolved from its training file) gets the Alpaca prompt around it, with `prompt` as
/// the instruction; any other run, the prompt as it is. `template_name` receives the template applied ("alpaca"), or
/// is left empty.
std::string prompt_as_trained(const Recipe& recipe, const std::string& prompt, std::string& template_name);

/// `peft generate [MODEL_DIR] --adapter HF_ADAPTER_DIR`: the model folder (default: the adapter's
/// base_model_name_or_path, when that is a folder here) with the adapter Hugging Face peft saved in `adapter_folder`.
AdaptedModel hf_adapter_generation_model(const Registry& registry, const std::optional<std::filesystem::path>& model,
                                         const std::filesystem::path& adapter_folder);

/// What `peft generate` runs: a finished run's model (a folder with recipe.toml: its backbone with its adapters), or
/// a Hugging Face model folder (config.json) as the `llama` backbone with no method.
AdaptedModel generation_model(const Registry& registry, const std::filesystem::path& folder);

}  // namespace peft
