#pragma once
// A causal-LM task for tests, written against the SDK alone as a task plugin would be: `[data] root` holds one text
// file per split (`<train_split>.txt`, `<eval_split>.txt`) of whitespace-separated token ids, a sequence a line;
// batches are right-padded `input_ids`, `attention_mask` and `labels` (-100 on padding); the loss is the shifted
// next-token cross-entropy over the target tokens, as Hugging Face's causal LMs compute it; metrics are loss,
// perplexity (primary) and token accuracy. The backbone's own LM head is kept, frozen.

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "peft/error.h"
#include "peft/task.h"

namespace peft::test {

/// Sequences of token ids, one example each.
class TokenLines final : public Dataset {
 public:
  explicit TokenLines(std::vector<std::vector<std::int64_t>> lines) : lines_(std::move(lines)) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(lines_.size()); }
  std::optional<Batch> example(std::int64_t index, std::int64_t) override {
    const at::Tensor ids = at::tensor(lines_[static_cast<std::size_t>(index)], at::kLong);
    return Batch{{keys::input_ids, ids}};
  }
  /// Right padding: id 0, attention 0, label -100.
  Batch collate(std::vector<Batch> examples) const override {
    std::int64_t longest = 0;
    for (const Batch& example : examples) longest = std::max(longest, example.at(keys::input_ids).size(0));
    const auto count = static_cast<std::int64_t>(examples.size());
    at::Tensor ids = at::zeros({count, longest}, at::kLong);
    at::Tensor mask = at::zeros({count, longest}, at::kLong);
    for (std::int64_t i = 0; i < count; ++i) {
      const at::Tensor& row = examples[static_cast<std::size_t>(i)].at(keys::input_ids);
      ids[i].narrow(0, 0, row.size(0)).copy_(row);
      mask[i].narrow(0, 0, row.size(0)).fill_(1);
    }
    return {{keys::input_ids, ids}, {keys::attention_mask, mask}, {keys::labels, ids.masked_fill(mask.eq(0), -100)}};
  }

 private:
  std::vector<std::vector<std::int64_t>> lines_;
};

class NextToken final : public Task {
 public:
  std::vector<std::string> provides() const override { return {keys::input_ids, keys::attention_mask, keys::labels}; }
  HeadPolicy head_policy() const override { return HeadPolicy::backbone_head; }

  TaskData read_data(const DataRequest& request) override {
    TaskData data;
    if (!request.options.has("root")) request.fail("root", "is missing, expected the folder of split files");
    data.train_split = request.options.get<std::string>("train_split");
    data.eval_split = request.options.get<std::string>("eval_split");
    data.train = std::make_shared<TokenLines>(read_lines(request.path("root") / (data.train_split + ".txt")));
    data.eval = std::make_shared<TokenLines>(read_lines(request.path("root") / (data.eval_split + ".txt")));
    return data;
  }

  Loss loss(const Outputs& outputs, const Batch& batch, const LossSettings& settings) const override {
    const auto [logits, targets] = shifted(outputs, batch);
    return {at::cross_entropy_loss(logits, targets, {}, at::Reduction::Mean, -100, settings.label_smoothing),
            static_cast<double>(targets.ne(-100).sum().item<std::int64_t>())};
  }

  void measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const override {
    const auto [logits, targets] = shifted(outputs, batch);
    const at::Tensor counted = targets.ne(-100);
    const auto tokens = static_cast<double>(counted.sum().item<std::int64_t>());
    if (pass == Pass::eval) {
      tally.add("loss", at::cross_entropy_loss(logits.detach(), targets, {}, at::Reduction::Sum).item<double>(),
                tokens);
    }
    const auto right = logits.detach().argmax(1).eq(targets).logical_and(counted).sum().item<std::int64_t>();
    tally.add("token_accuracy", static_cast<double>(right), tokens);
  }

  std::vector<MetricSpec> metrics() const override {
    return {{"perplexity", false, false, ""}, {"loss", false, false, ""}, {"token_accuracy", true, true, ""}};
  }
  std::string primary_metric() const override { return "perplexity"; }
  MetricValues values(const Tally& tally) const override {
    return {{"perplexity", std::exp(tally.mean("loss"))},
            {"loss", tally.mean("loss")},
            {"token_accuracy", tally.mean("token_accuracy")}};
  }
  std::string unit() const override { return "sequences"; }

 private:
  static std::pair<at::Tensor, at::Tensor> shifted(const Outputs& outputs, const Batch& batch) {
    const at::Tensor& logits = outputs.at(keys::logits);
    const std::int64_t vocabulary = logits.size(-1);
    return {logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, vocabulary}),
            batch.at(keys::labels).narrow(1, 1, logits.size(1) - 1).reshape({-1})};
  }

  static std::vector<std::vector<std::int64_t>> read_lines(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw Error("data", file.string() + " cannot be read");
    std::vector<std::vector<std::int64_t>> lines;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      std::istringstream tokens(line);
      std::vector<std::int64_t> ids;
      for (std::int64_t id = 0; tokens >> id;) ids.push_back(id);
      if (!tokens.eof() || ids.size() < 2) {
        throw Error("data", file.string() + ":" + std::to_string(number) + ": expected two or more token ids");
      }
      lines.push_back(std::move(ids));
    }
    if (lines.empty()) throw Error("data", file.string() + ": no sequences");
    return lines;
  }
};

/// The `[data]` keys of NextToken.
inline std::vector<OptionSpec> next_token_data_keys() {
  return {{"root", OptionType::string, std::nullopt, "the folder of <split>.txt files: token ids, a sequence a line"},
          {"train_split", OptionType::string, std::string("train"), "the training split"},
          {"eval_split", OptionType::string, std::string("val"), "the evaluation split"}};
}

}  // namespace peft::test
