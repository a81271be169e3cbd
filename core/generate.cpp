#include "generate.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "data/text_records.h"
#include "hf_adapter/hf_adapter.h"
#include "model_builder.h"
#include "peft/error.h"
#include "peft/tokenizer.h"
#include "run.h"
#include "run_files.h"

namespace peft {
namespace {

at::Tensor ids_tensor(const std::vector<std::int64_t>& ids, const at::Device& device) {
  return at::tensor(ids, at::kLong).view({1, -1}).to(device);
}

std::int64_t next_token(const at::Tensor& logits, const GenerateOptions& options, at::Generator& generator) {
  if (options.temperature <= 0.0) return logits.argmax().item<std::int64_t>();
  at::Tensor probabilities = at::softmax(logits.to(at::kFloat) / options.temperature, -1);
  if (options.top_p < 1.0) {
    const auto sorted = probabilities.sort(-1, true);
    const at::Tensor& values = std::get<0>(sorted);
    const at::Tensor& order = std::get<1>(sorted);
    // Keep a token while the probability before it is still under top_p (the first always stays).
    const at::Tensor before = values.cumsum(-1) - values;
    const at::Tensor kept = values.masked_fill(before.ge(options.top_p), 0.0);
    probabilities = at::zeros_like(probabilities).scatter(-1, order, kept);
  }
  return at::multinomial(probabilities, 1, false, generator).item<std::int64_t>();
}

// The new tokens as they read after the prompt: decoding them alone would drop the space SentencePiece folds into
// a word's first piece ("▁world" → "world"), so the prompt and the continuation are decoded together and the
// prompt's own text taken off (as HF's TextStreamer does).
std::string continuation_text(const Tokenizer& tokenizer, std::vector<std::int64_t> prompt_ids,
                              const std::vector<std::int64_t>& new_ids) {
  const std::string prompt_text = tokenizer.decode(prompt_ids);
  prompt_ids.insert(prompt_ids.end(), new_ids.begin(), new_ids.end());
  const std::string whole = tokenizer.decode(prompt_ids);
  if (whole.compare(0, prompt_text.size(), prompt_text) == 0) return whole.substr(prompt_text.size());
  return tokenizer.decode(new_ids);  // a piece merged across the boundary: the new tokens on their own
}

}  // namespace

std::string prompt_as_trained(const Recipe& recipe, const std::string& prompt, std::string& template_name) {
  namespace fs = std::filesystem;
  if (recipe.task != "causal_lm" || !recipe.data) return prompt;
  const auto text_option = [&](const std::string& key, const std::string& fallback) {
    const auto found = recipe.data->options.find(key);
    const auto* value = found == recipe.data->options.end() ? nullptr : std::get_if<std::string>(&found->second);
    return value == nullptr ? fallback : *value;
  };
  data::TextTemplate chosen = data::text_template_from(text_option("template", "auto"));
  if (chosen == data::TextTemplate::automatic) {
    const fs::path root = data_root(recipe).value_or(recipe.file.parent_path());
    chosen =
        data::detected_template(root / (text_option("train_split", "train") + "." + text_option("format", "jsonl")));
  }
  if (chosen != data::TextTemplate::alpaca) return prompt;
  template_name = "alpaca";
  return data::alpaca_prompt(prompt, "");
}

AdaptedModel generation_model(const Registry& registry, const std::filesystem::path& folder) {
  namespace fs = std::filesystem;
  if (fs::exists(folder / kRecipeFile)) return load_run(registry, folder, false).model;
  if (!fs::exists(folder / "config.json")) {
    throw Error("generate",
                folder.string() + " is neither a run folder (recipe.toml) nor a model folder (config.json)");
  }
  BackboneSection section;
  section.plugin = "llama";
  section.context = folder.string();
  section.checkpoint = folder;
  return unadapted(build_backbone(registry, section).backbone);
}

AdaptedModel hf_adapter_generation_model(const Registry& registry, const std::optional<std::filesystem::path>& model,
                                         const std::filesystem::path& adapter_folder) {
  namespace fs = std::filesystem;
  const HfAdapter adapter = read_hf_adapter(adapter_folder);
  const std::string config = (adapter_folder / kAdapterConfigFile).string();
  if (!model && adapter.base_model.empty()) {
    throw Error("generate", "name the model folder (peft generate MODEL_DIR --adapter ...): " + config +
                                " has no base_model_name_or_path");
  }
  const fs::path folder = model ? *model : fs::path(adapter.base_model);
  std::error_code error;
  if (!model && !fs::is_directory(folder, error)) {
    throw Error("generate", config + ": base_model_name_or_path = \"" + adapter.base_model +
                                "\" is not a folder here (peft downloads nothing: name the model folder, peft "
                                "generate MODEL_DIR --adapter " +
                                adapter_folder.string() + ")");
  }
  if (fs::exists(folder / kRecipeFile)) {
    throw Error("generate", folder.string() + " is a run folder: --adapter " + adapter_folder.string() +
                                " goes on the model folder it was trained from");
  }
  return adapt_to_hf_adapter(registry, generation_model(registry, folder).backbone, adapter, false);
}

Generation generate_ids(AdaptedModel& model, const std::vector<std::int64_t>& prompt_ids,
                        std::optional<std::int64_t> eos_id, const GenerateOptions& options) {
  CausalLm* lm = model.backbone->causal_lm();
  if (lm == nullptr)
    throw Error("generate", "backbone '" + model.backbone->name() + "' is not a causal language model");
  if (prompt_ids.empty()) throw Error("generate", "the prompt is empty (and the tokenizer adds no BOS)");
  const auto prompt_length = static_cast<std::int64_t>(prompt_ids.size());
  if (prompt_length >= lm->max_length()) {
    throw Error("generate", "the prompt has " + std::to_string(prompt_length) +
                                " tokens, leaving no room before the model's maximum of " +
                                std::to_string(lm->max_length()));
  }
  const std::int64_t steps = std::min(options.max_new_tokens, lm->max_length() - prompt_length);
  const at::Tensor any_parameter = model.backbone->parameters().front();
  const at::Device device = any_parameter.device();
  at::NoGradGuard no_grad;
  model.train(false);
  at::Generator generator = at::detail::createCPUGenerator(options.seed);

  Generation result;
  std::vector<std::int64_t> sequence = prompt_ids;
  Batch cache;
  if (options.use_cache) cache = lm->allocate_cache(1, prompt_length + steps, any_parameter.options());
  std::int64_t cached = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    Batch batch = options.use_cache ? cache : Batch();
    const std::vector<std::int64_t> fresh(sequence.begin() + (options.use_cache ? cached : 0), sequence.end());
    batch.set(keys::input_ids, ids_tensor(fresh, device));
    if (options.use_cache) batch.set(keys::cache_position, at::scalar_tensor(cached, at::kLong));
    const at::Tensor logits = model.forward(batch).at(keys::logits)[0][-1].to(at::kCPU);
    cached = static_cast<std::int64_t>(sequence.size());
    if (options.keep_logits) result.logits.push_back(logits);
    const std::int64_t token = next_token(logits, options, generator);
    if (eos_id && token == *eos_id) {
      result.stopped_at_eos = true;
      break;
    }
    sequence.push_back(token);
    result.new_ids.push_back(token);
  }
  return result;
}

Generation generate_text(AdaptedModel& model, const std::string& prompt, const GenerateOptions& options) {
  const Tokenizer* tokenizer = model.backbone->tokenizer();
  if (tokenizer == nullptr) {
    throw Error("generate", "backbone '" + model.backbone->name() +
                                "' has no tokenizer (its model folder needs "
                                "tokenizer.model)");
  }
  const std::vector<std::int64_t> prompt_ids = tokenizer->encode(prompt);
  std::vector<std::int64_t> ids = prompt_ids;
  if (tokenizer->adds_bos() && tokenizer->bos_id()) ids.insert(ids.begin(), *tokenizer->bos_id());
  Generation result = generate_ids(model, ids, tokenizer->eos_id(), options);
  result.text = continuation_text(*tokenizer, prompt_ids, result.new_ids);
  return result;
}

}  // namespace peft
