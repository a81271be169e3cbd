#pragma once
// tokenizer.json's `post_processor`: what encode(…, add_special_tokens=True) wraps a sequence in —
// TemplateProcessing, Bert/Roberta ([CLS] A [SEP]), ByteLevel (offsets only: ids unchanged) and Sequence of them.
// Any other type is refused by name when the file loads.

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace peft::hf {

class Vocabulary;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  /// `ids` of one sequence with the special tokens added around it.
  virtual std::vector<std::int64_t> process(std::vector<std::int64_t> ids) const = 0;
};

/// The post-processor `json` describes (null: none); `where` names it in errors.
std::unique_ptr<PostProcessor> post_processor_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace peft::hf
