#include "tasks/causal_lm.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>

#include "data/text_records.h"
#include "data/token_batches.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/task.h"
#include "peft/tokenizer.h"
#include "tasks/text_data.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

struct TextSettings {
  TextFiles files;
  data::TextTemplate chosen = data::TextTemplate::automatic;
  bool truncation = true;
  bool train_on_prompt = false;
  bool packing = false;
  bool cache = false;
};

TextSettings text_settings(const DataRequest& request) {
  TextSettings settings;
  settings.files = text_files(request);
  settings.chosen = data::text_template_from(request.options.one_of("template", data::text_template_names()));
  settings.truncation = request.options.get<bool>("truncation");
  settings.train_on_prompt = request.options.get<bool>("train_on_prompt");
  settings.packing = request.options.get<bool>("packing");
  settings.cache = request.options.get<bool>("cache_tokens");
  return settings;
}

struct EncodedText {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> labels;
};

// BOS (where the tokenizer adds it), prompt + response as one text, EOS after a response (or where the tokenizer
// adds it to plain text); labels are the ids with -100 on the prompt's tokens unless train_on_prompt.
EncodedText encode_record(const data::TextRecord& record, const Tokenizer& tokenizer, bool train_on_prompt) {
  EncodedText encoded;
  std::vector<std::int64_t>& ids = encoded.ids;
  if (tokenizer.adds_bos() && tokenizer.bos_id()) ids.push_back(*tokenizer.bos_id());
  // Plain text has no prompt: every id is a label, as transformers' run_clm has it (BOS is never a target).
  const std::size_t prompt_length = record.prompt.empty() ? 0 : ids.size() + tokenizer.encode(record.prompt).size();
  const std::vector<std::int64_t> text = tokenizer.encode(record.prompt + record.response);
  ids.insert(ids.end(), text.begin(), text.end());
  const bool eos = !record.prompt.empty() || tokenizer.adds_eos();
  if (eos && tokenizer.eos_id()) ids.push_back(*tokenizer.eos_id());
  encoded.labels = ids;
  if (!train_on_prompt) {
    std::fill_n(encoded.labels.begin(), std::min(prompt_length, ids.size()), -100);
  }
  return encoded;
}

// A sequence trains something when a position after the first is a target (the loss is shifted).
bool has_targets(const std::vector<std::int64_t>& labels, std::size_t from = 1) {
  return std::any_of(labels.begin() + static_cast<std::ptrdiff_t>(std::min(from, labels.size())), labels.end(),
                     [](std::int64_t id) { return id != -100; });
}

// Right padding: the tokenizer's pad id (else 0), attention 0, label -100.
Batch collate_tokens(std::vector<Batch> examples, const Tokenizer& tokenizer) {
  return {{keys::input_ids, data::right_padded(examples, keys::input_ids, tokenizer.pad_id().value_or(0))},
          {keys::attention_mask, data::attention_mask(examples)},
          {keys::labels, data::right_padded(examples, keys::labels, -100)}};
}

// A split's records, tokenised when the loader asks for an example (in its worker threads), one a sequence.
class TokenizedText final : public Dataset {
 public:
  TokenizedText(std::vector<data::TextRecord> records, const Tokenizer& tokenizer, const TextSettings& settings,
                std::int64_t max_length)
      : records_(std::move(records)),
        tokenizer_(tokenizer),
        settings_(settings),
        max_length_(max_length),
        cached_(settings.cache ? records_.size() : 0) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(records_.size()); }

  std::optional<Batch> example(std::int64_t index, std::int64_t) override {
    const data::TextRecord& record = records_[static_cast<std::size_t>(index)];
    EncodedText encoded = encoded_record(index);
    std::vector<std::int64_t>& ids = encoded.ids;
    std::vector<std::int64_t>& labels = encoded.labels;
    if (static_cast<std::int64_t>(ids.size()) > max_length_) {
      if (!settings_.truncation) {
        if (settings_.files.skip_bad) return skip(index);
        throw Error("data", record.where + ": " + std::to_string(ids.size()) + " tokens, longer than max_length = " +
                                std::to_string(max_length_) + " (truncation = false)");
      }
      ids.resize(static_cast<std::size_t>(max_length_));
      labels.resize(ids.size());
    }
    // A record with no target left (a prompt cut by max_length) trains nothing.
    if (!has_targets(labels)) return skip(index);
    Batch example;
    example.set(keys::input_ids, at::tensor(ids, at::kLong));
    example.set(keys::labels, at::tensor(labels, at::kLong));
    return example;
  }

  Batch collate(std::vector<Batch> examples) const override { return collate_tokens(std::move(examples), tokenizer_); }

  std::int64_t skipped() const override {
    const std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::int64_t>(skipped_.size());
  }

 private:
  // The record's tokens, from the cache once an epoch has made them (cache_tokens = true).
  EncodedText encoded_record(std::int64_t index) {
    const auto slot = static_cast<std::size_t>(index);
    if (!cached_.empty()) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (cached_[slot]) return *cached_[slot];
    }
    EncodedText encoded = encode_record(records_[slot], tokenizer_, settings_.train_on_prompt);
    if (!cached_.empty()) {
      const std::lock_guard<std::mutex> lock(mutex_);
      cached_[slot] = encoded;
    }
    return encoded;
  }

  std::optional<Batch> skip(std::int64_t index) {
    const std::lock_guard<std::mutex> lock(mutex_);
    skipped_.insert(index);
    return std::nullopt;
  }

  std::vector<data::TextRecord> records_;
  const Tokenizer& tokenizer_;
  TextSettings settings_;
  std::int64_t max_length_;
  std::vector<std::optional<EncodedText>> cached_;
  mutable std::mutex mutex_;
  std::set<std::int64_t> skipped_;
};

// Packing (transformers' run_clm group_texts): every record tokenised once, when the split is read, the sequences
// joined end to end (each keeps its BOS and EOS) and cut into max_length windows; a last, shorter window is
// dropped unless no window was kept before it, and a window with no target (all prompt) is left out. Attention crosses
// the records' boundaries inside a window, as run_clm's does.
class PackedText final : public Dataset {
 public:
  PackedText(const fs::path& file, const std::vector<data::TextRecord>& records, const Tokenizer& tokenizer,
             bool train_on_prompt, std::int64_t max_length)
      : tokenizer_(tokenizer) {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> labels;
    for (const auto& record : records) {
      EncodedText encoded = encode_record(record, tokenizer, train_on_prompt);
      ids.insert(ids.end(), encoded.ids.begin(), encoded.ids.end());
      labels.insert(labels.end(), encoded.labels.begin(), encoded.labels.end());
    }
    const auto window = static_cast<std::size_t>(max_length);
    for (std::size_t start = 0; start < ids.size(); start += window) {
      const std::size_t end = std::min(ids.size(), start + window);
      if (end - start < window && !windows_.empty()) break;
      std::vector<std::int64_t> part(labels.begin() + static_cast<std::ptrdiff_t>(start),
                                     labels.begin() + static_cast<std::ptrdiff_t>(end));
      if (!has_targets(part)) continue;
      windows_.push_back(
          {{ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end)},
           std::move(part)});
    }
    if (windows_.empty()) {
      throw Error("data", file.string() + ": packing left no window with a token to train on (every token is prompt)");
    }
  }

  std::int64_t size() const override { return static_cast<std::int64_t>(windows_.size()); }

  std::optional<Batch> example(std::int64_t index, std::int64_t) override {
    const EncodedText& window = windows_[static_cast<std::size_t>(index)];
    Batch example;
    example.set(keys::input_ids, at::tensor(window.ids, at::kLong));
    example.set(keys::labels, at::tensor(window.labels, at::kLong));
    return example;
  }

  Batch collate(std::vector<Batch> examples) const override { return collate_tokens(std::move(examples), tokenizer_); }

 private:
  const Tokenizer& tokenizer_;
  std::vector<EncodedText> windows_;
};

class CausalLmTask final : public Task {
 public:
  std::vector<std::string> provides() const override { return {keys::input_ids, keys::attention_mask, keys::labels}; }

  std::string refusal(Backbone& backbone) const override {
    if (backbone.causal_lm() != nullptr) return Task::refusal(backbone);
    return "it is not a causal language model (no LM head predicting the next token)";
  }

  HeadPolicy head_policy() const override { return HeadPolicy::backbone_head; }

  TaskData read_data(const DataRequest& request) override {
    const TextSettings settings = text_settings(request);
    packed_ = settings.packing;
    const Tokenizer& tokenizer = text_tokenizer(request, kCausalLm);
    const std::int64_t max_length = text_max_length(request, settings.files.max_length);
    TaskData data;
    data.train_split = settings.files.train_split;
    data.eval_split = settings.files.eval_split;
    const auto split = [&](const fs::path& file) {
      data::TextRecords read = data::read_text_records(file, settings.chosen, settings.files.skip_bad);
      if (read.skipped > 0) {
        data.notices.push_back(skipped_records_notice(file, read.skipped, read.records.size(), read.first_problem));
      }
      if (settings.packing) {
        return std::shared_ptr<Dataset>(
            std::make_shared<PackedText>(file, read.records, tokenizer, settings.train_on_prompt, max_length));
      }
      return std::shared_ptr<Dataset>(
          std::make_shared<TokenizedText>(std::move(read.records), tokenizer, settings, max_length));
    };
    data.train = split(settings.files.train_file);
    data.eval = split(settings.files.eval_file);
    return data;
  }

  void check_data(const DataRequest& request) const override { text_settings(request); }

  Loss loss(const Outputs& outputs, const Batch& batch, const LossSettings& settings) const override {
    const auto [logits, targets] = shifted(outputs, batch);
    return {
        at::cross_entropy_loss(logits.to(at::kFloat), targets, {}, at::Reduction::Mean, -100, settings.label_smoothing),
        static_cast<double>(targets.ne(-100).sum().item<std::int64_t>())};
  }

  void measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const override {
    const auto [logits, targets] = shifted(outputs, batch);
    const at::Tensor counted = targets.ne(-100);
    const auto tokens = static_cast<double>(counted.sum().item<std::int64_t>());
    const at::Tensor scores = logits.detach();
    if (pass == Pass::eval) {
      tally.add("loss",
                at::cross_entropy_loss(scores.to(at::kFloat), targets, {}, at::Reduction::Sum, -100).item<double>(),
                tokens);
    }
    const at::Tensor hits = scores.argmax(1).eq(targets);
    const auto right = hits.logical_and(counted).sum().item<std::int64_t>();
    tally.add("token_accuracy", static_cast<double>(right), tokens);
    if (pass == Pass::eval && !packed_) add_exact_match(hits, batch, tally);
  }

  std::vector<MetricSpec> metrics() const override {
    return {{"perplexity", false, false, "perplexity"},
            {"loss", false, false, "loss"},
            {"token_accuracy", true, true, "token accuracy"},
            {"exact_match", true, true, "exact match"}};
  }
  std::string primary_metric() const override { return "perplexity"; }
  MetricValues values(const Tally& tally) const override {
    MetricValues values{{"perplexity", std::exp(tally.mean("loss"))},
                        {"loss", tally.mean("loss")},
                        {"token_accuracy", tally.mean("token_accuracy")}};
    if (tally.has("exact_match")) values.emplace_back("exact_match", tally.mean("exact_match"));
    return values;
  }
  std::string unit() const override { return "sequences"; }

 private:
  // Packed windows start anywhere in a record: no response to match there.
  bool packed_ = false;

  // Greedy decoding's exact match, from the one teacher-forced pass: a greedy decoder given the prompt writes the
  // response and its EOS token for token exactly when each of them is the argmax after the true prefix, which is
  // the prefix the decoder itself would have written. Counted over the sequences whose prompt is masked (records
  // with a prompt, train_on_prompt = false); plain text has no response to match, and then no exact_match.
  static void add_exact_match(const at::Tensor& hits, const Batch& batch, Tally& tally) {
    const at::Tensor& labels = batch.at(keys::labels);
    const std::int64_t rows = labels.size(0);
    const at::Tensor targets = labels.narrow(1, 1, labels.size(1) - 1);
    const at::Tensor counted = targets.ne(-100);
    const at::Tensor prompted = targets.select(1, 0).eq(-100).logical_and(counted.any(1));
    const auto sequences = prompted.sum().item<std::int64_t>();
    if (sequences == 0) return;
    const at::Tensor exact = hits.view({rows, -1}).logical_or(counted.logical_not()).all(1).logical_and(prompted);
    tally.add("exact_match", static_cast<double>(exact.sum().item<std::int64_t>()), static_cast<double>(sequences));
  }

  // Logits at positions 0..T-2 against the labels at 1..T-1, flattened.
  static std::pair<at::Tensor, at::Tensor> shifted(const Outputs& outputs, const Batch& batch) {
    const at::Tensor& logits = outputs.at(keys::logits);
    const std::int64_t length = logits.size(1) - 1;
    return {logits.narrow(1, 0, length).reshape({-1, logits.size(-1)}),
            batch.at(keys::labels).narrow(1, 1, length).reshape({-1})};
  }
};

}  // namespace

void register_causal_lm(Registry& registry) {
  registry.add_task(
      {kCausalLm, "Causal language modelling on text records: next-token loss on the responses, perplexity",
       [](const Options&) { return std::make_shared<CausalLmTask>(); },
       text_file_keys(
           {{"template", OptionType::string, std::string("auto"),
             "auto | text | alpaca (instruction, input, output) | prompt_completion (prompt, "
             "completion)"},
            {"truncation", OptionType::boolean, true, "cut longer sequences at max_length (false: an error)"},
            {"train_on_prompt", OptionType::boolean, false,
             "train on the prompt's tokens too (default: the response's)"},
            {"cache_tokens", OptionType::boolean, false,
             "keep each record's tokens in memory after the first epoch tokenised them (not with packing, "
             "which tokenises once anyway)"},
            {"packing", OptionType::boolean, false,
             "join the records end to end and cut max_length windows (transformers' run_clm); no padding"}})});
}

}  // namespace peft
