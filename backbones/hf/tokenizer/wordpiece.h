#pragma once
// WordPiece as BERT-style tokenizers run it: the longest vocabulary prefix first, the rest continued with "##";
// a word with any part outside the vocabulary, or longer than max_input_chars_per_word, is the unk token.

#include <string>
#include <vector>

#include "model.h"

namespace peft::hf {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};

class WordPiece final : public Model {
 public:
  /// An unk_token outside the vocabulary is a peft::Error naming `where`.
  WordPiece(std::vector<std::string> tokens, WordPieceOptions options, const std::string& where);
  void tokenize(std::string_view word, std::vector<std::int64_t>& ids) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }

 private:
  Vocabulary vocabulary_;
  WordPieceOptions options_;
  std::int64_t unk_id_ = 0;
};

}  // namespace peft::hf
