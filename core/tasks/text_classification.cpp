#include "tasks/text_classification.h"

#include <ATen/ATen.h>

#include <map>

#include "data/text_records.h"
#include "data/token_batches.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "peft/task.h"
#include "peft/tokenizer.h"
#include "tasks/classification.h"
#include "tasks/text_data.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

// Texts as BOS + tokens (+ EOS where the tokenizer adds it), cut at max_length, with their class ids.
class LabelledTokens final : public Dataset {
 public:
  LabelledTokens(std::vector<data::LabelledText> records, std::vector<std::int64_t> classes, const Tokenizer& tokenizer,
                 std::int64_t max_length)
      : records_(std::move(records)), classes_(std::move(classes)), tokenizer_(tokenizer), max_length_(max_length) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(records_.size()); }

  std::optional<Batch> example(std::int64_t index, std::int64_t) override {
    std::vector<std::int64_t> ids = tokenizer_.encode_sequence(records_[static_cast<std::size_t>(index)].text);
    if (static_cast<std::int64_t>(ids.size()) > max_length_) ids.resize(static_cast<std::size_t>(max_length_));
    Batch example;
    example.set(keys::input_ids, at::tensor(ids, at::kLong));
    example.set(keys::labels, at::scalar_tensor(classes_[static_cast<std::size_t>(index)], at::kLong));
    return example;
  }

  /// Right padding (the tokenizer's pad id, else 0; attention 0), the labels stacked.
  Batch collate(std::vector<Batch> examples) const override {
    std::vector<at::Tensor> labels;
    for (const Batch& example : examples) labels.push_back(example.at(keys::labels));
    return {{keys::input_ids, data::right_padded(examples, keys::input_ids, tokenizer_.pad_id().value_or(0))},
            {keys::attention_mask, data::attention_mask(examples)},
            {keys::labels, labels.empty() ? at::zeros({0}, at::kLong) : at::stack(labels)}};
  }

 private:
  std::vector<data::LabelledText> records_;
  std::vector<std::int64_t> classes_;
  const Tokenizer& tokenizer_;
  std::int64_t max_length_;
};

class TextClassification final : public ClassificationTask {
 public:
  std::vector<std::string> provides() const override { return {keys::input_ids, keys::attention_mask, keys::labels}; }

  std::string refusal(Backbone& backbone) const override {
    if (backbone.classifier() != nullptr) return Task::refusal(backbone);
    return "it has no classification head; text classification fits one over its last token";
  }

  TaskData read_data(const DataRequest& request) override {
    const TextFiles files = text_files(request);
    const Tokenizer& tokenizer = text_tokenizer(request, kTextClassification);
    const std::int64_t max_length = text_max_length(request, files.max_length);
    TaskData data;
    data.train_split = files.train_split;
    data.eval_split = files.eval_split;
    data::LabelledTexts train = read(files.train_file, files.skip_bad, data);
    data::LabelledTexts eval = read(files.eval_file, files.skip_bad, data);
    // Contiguous ids from the training split's distinct labels, sorted (integers before strings).
    std::map<data::TextLabel, std::int64_t> ids;
    for (const auto& record : train.records) ids.emplace(record.label, 0);
    std::int64_t next = 0;
    for (auto& [label, id] : ids) id = next++;
    const auto classes_of = [&](const data::LabelledTexts& split) {
      std::vector<std::int64_t> classes;
      for (const auto& record : split.records) {
        const auto found = ids.find(record.label);
        if (found == ids.end()) {
          std::vector<std::string> known;
          for (const auto& entry : ids) known.push_back(data::label_text(entry.first));
          throw Error("data", record.where + ": label " + data::label_text(record.label) +
                                  " is not among the training split's " + std::to_string(ids.size()) + " labels (" +
                                  join(known) + ")");
        }
        classes.push_back(found->second);
      }
      return classes;
    };
    data.num_classes = static_cast<std::int64_t>(ids.size());
    std::vector<std::int64_t> train_classes = classes_of(train);
    std::vector<std::int64_t> eval_classes = classes_of(eval);
    data.train =
        std::make_shared<LabelledTokens>(std::move(train.records), std::move(train_classes), tokenizer, max_length);
    data.eval =
        std::make_shared<LabelledTokens>(std::move(eval.records), std::move(eval_classes), tokenizer, max_length);
    return data;
  }

  void check_data(const DataRequest& request) const override { text_files(request); }

  std::string unit() const override { return "texts"; }

 private:
  static data::LabelledTexts read(const fs::path& file, bool skip_bad, TaskData& data) {
    data::LabelledTexts read = data::read_labelled_texts(file, skip_bad);
    if (read.skipped > 0) {
      data.notices.push_back(skipped_records_notice(file, read.skipped, read.records.size(), read.first_problem));
    }
    return read;
  }
};

}  // namespace

void register_text_classification(Registry& registry) {
  registry.add_task({kTextClassification,
                     "Text classification: text + label records, a new head over the last token, top-1",
                     [](const Options&) { return std::make_shared<TextClassification>(); }, text_file_keys()});
}

}  // namespace peft
