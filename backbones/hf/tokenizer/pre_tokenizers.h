#pragma once
// tokenizer.json's `pre_tokenizer`: ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, Digits, Punctuation,
// BertPreTokenizer, CharDelimiterSplit and Sequence of them. Any other type is refused by name when the file loads.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "splits.h"

namespace peft::hf {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Cuts each text piece of `splits` into words, in place; added tokens (pieces with an id) stay as they are.
  void pre_tokenize(std::vector<Split>& splits) const;
  /// The words of one text piece.
  virtual std::vector<Split> split(const Split& piece) const = 0;
};

/// The pre-tokenizer `json` describes (null: none); `where` names it in errors.
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace peft::hf
