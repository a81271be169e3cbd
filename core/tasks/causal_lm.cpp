#include "tasks/causal_lm.h"

#include <ATen/ATen.h>

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
};

TextSettings text_settings(const DataRequest& request) {
  TextSettings settings;
  settings.files = text_files(request);
  settings.chosen = data::text_template_from(request.options.one_of("template", data::text_template_names()));
  settings.truncation = request.options.get<bool>("truncation");
  settings.train_on_prompt = request.options.get<bool>("train_on_prompt");
  return settings;
}

// A split's records, tokenised when the loader asks for an example (in its worker threads): BOS (where the
// tokenizer adds it), prompt + response as one text, EOS after a response (or where the tokenizer adds it to
// plain text); labels are the ids with -100 on the prompt's tokens.
class TokenizedText final : public Dataset {
 public:
  TokenizedText(std::vector<data::TextRecord> records, const Tokenizer& tokenizer, const TextSettings& settings,
                std::int64_t max_length)
      : records_(std::move(records)), tokenizer_(tokenizer), settings_(settings), max_length_(max_length) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(records_.size()); }

  std::optional<Batch> example(std::int64_t index, std::int64_t) override {
    const data::TextRecord& record = records_[static_cast<std::size_t>(index)];
    std::vector<std::int64_t> ids;
    if (tokenizer_.adds_bos() && tokenizer_.bos_id()) ids.push_back(*tokenizer_.bos_id());
    // Plain text has no prompt: every id is a label, as transformers' run_clm has it (BOS is never a target).
    const std::size_t prompt_length = record.prompt.empty() ? 0 : ids.size() + tokenizer_.encode(record.prompt).size();
    const std::vector<std::int64_t> text = tokenizer_.encode(record.prompt + record.response);
    ids.insert(ids.end(), text.begin(), text.end());
    const bool eos = !record.prompt.empty() || tokenizer_.adds_eos();
    if (eos && tokenizer_.eos_id()) ids.push_back(*tokenizer_.eos_id());
    if (static_cast<std::int64_t>(ids.size()) > max_length_) {
      if (!settings_.truncation) {
        if (settings_.files.skip_bad) return skip(index);
        throw Error("data", record.where + ": " + std::to_string(ids.size()) + " tokens, longer than max_length = " +
                                std::to_string(max_length_) + " (truncation = false)");
      }
      ids.resize(static_cast<std::size_t>(max_length_));
    }
    std::vector<std::int64_t> labels = ids;
    if (!settings_.train_on_prompt) {
      for (std::size_t i = 0; i < std::min(prompt_length, labels.size()); ++i) labels[i] = -100;
    }
    // Position 0 is never a target (the loss is shifted): a record with no target left trains nothing.
    if (std::count_if(labels.begin() + 1, labels.end(), [](std::int64_t id) { return id != -100; }) == 0) {
      return skip(index);
    }
    Batch example;
    example.set(keys::input_ids, at::tensor(ids, at::kLong));
    example.set(keys::labels, at::tensor(labels, at::kLong));
    return example;
  }

  /// Right padding: the tokenizer's pad id (else 0), attention 0, label -100.
  Batch collate(std::vector<Batch> examples) const override {
    return {{keys::input_ids, data::right_padded(examples, keys::input_ids, tokenizer_.pad_id().value_or(0))},
            {keys::attention_mask, data::attention_mask(examples)},
            {keys::labels, data::right_padded(examples, keys::labels, -100)}};
  }

  std::int64_t skipped() const override {
    const std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::int64_t>(skipped_.size());
  }

 private:
  std::optional<Batch> skip(std::int64_t index) {
    const std::lock_guard<std::mutex> lock(mutex_);
    skipped_.insert(index);
    return std::nullopt;
  }

  std::vector<data::TextRecord> records_;
  const Tokenizer& tokenizer_;
  TextSettings settings_;
  std::int64_t max_length_;
  mutable std::mutex mutex_;
  std::set<std::int64_t> skipped_;
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
      return std::make_shared<TokenizedText>(std::move(read.records), tokenizer, settings, max_length);
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
    if (pass == Pass::eval) add_exact_match(hits, batch, tally);
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
             "train on the prompt's tokens too (default: the response's)"}})});
}

}  // namespace peft
