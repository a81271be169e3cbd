#include "tasks/text_data.h"

#include "peft/backbone.h"
#include "peft/error.h"

namespace peft {

TextFiles text_files(const DataRequest& request) {
  const Options& options = request.options;
  if (!options.has("root")) request.fail("root", "is missing, expected the folder of <split>.jsonl files");
  TextFiles files;
  const std::string extension = "." + options.one_of("format", {"jsonl", "json"});
  files.train_split = options.get<std::string>("train_split");
  files.eval_split = options.get<std::string>("eval_split");
  files.train_file = request.path("root") / (files.train_split + extension);
  files.eval_file = request.path("root") / (files.eval_split + extension);
  files.max_length = options.get<std::int64_t>("max_length");
  if (files.max_length < 0) {
    request.fail("max_length", "= " + std::to_string(files.max_length) + ", expected 0 (the model's) or more");
  }
  files.skip_bad = options.one_of("on_bad_sample", {"error", "skip"}) == "skip";
  return files;
}

std::vector<OptionSpec> text_file_keys(std::vector<OptionSpec> extra) {
  std::vector<OptionSpec> keys{
      {"root", OptionType::string, std::nullopt, "the folder of <split>.jsonl (or .json) files"},
      {"format", OptionType::string, std::string("jsonl"), "jsonl: an object a line | json: an array of objects"},
      {"train_split", OptionType::string, std::string("train"), "the training split"},
      {"eval_split", OptionType::string, std::string("val"), "the evaluation split"},
      {"max_length", OptionType::integer, std::int64_t{0}, "tokens per sequence (0: the model's maximum)"},
      {"on_bad_sample", OptionType::string, std::string("error"),
       "error | skip: leave out (and count) records that do not parse or fit"}};
  for (auto& spec : extra) keys.push_back(std::move(spec));
  return keys;
}

const Tokenizer& text_tokenizer(const DataRequest& request, const std::string& task) {
  const Tokenizer* tokenizer = request.backbone->tokenizer();
  if (tokenizer == nullptr) {
    throw Error("data", "backbone '" + request.backbone->name() + "' has no tokenizer, which " + task +
                            "'s text data needs (its model folder needs tokenizer.model)");
  }
  return *tokenizer;
}

std::int64_t text_max_length(const DataRequest& request, std::int64_t given) {
  CausalLm* lm = request.backbone->causal_lm();
  if (lm == nullptr) {
    if (given == 0) request.fail("max_length", "must be set for a backbone without a maximum length");
    return given;
  }
  const std::int64_t length = given == 0 ? lm->max_length() : given;
  if (length > lm->max_length()) {
    request.fail("max_length", "= " + std::to_string(length) + " is longer than the model's maximum of " +
                                   std::to_string(lm->max_length()));
  }
  return length;
}

std::string skipped_records_notice(const std::filesystem::path& file, std::size_t skipped, std::size_t kept,
                                   const std::string& first_problem) {
  return file.string() + ": " + std::to_string(skipped) + " of " + std::to_string(skipped + kept) +
         " records skipped (on_bad_sample = \"skip\"; the first: " + first_problem + ")";
}

}  // namespace peft
