#pragma once
// Unigram (SentencePiece's unigram model in tokenizer.json): the segmentation of a word whose pieces' log
// probabilities sum highest (Viterbi), unknown characters scored below every piece and fused; with byte_fallback
// an unknown piece becomes its <0xNN> bytes.

#include <string>
#include <utility>
#include <vector>

#include "model.h"

namespace peft::hf {

class Unigram final : public Model {
 public:
  /// `pieces` are (token, score) by id; an unk_id outside them is a peft::Error naming `where`.
  Unigram(const std::vector<std::pair<std::string, double>>& pieces, std::optional<std::int64_t> unk_id,
          bool byte_fallback, const std::string& where);
  void tokenize(std::string_view word, std::vector<std::int64_t>& ids) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }

 private:
  std::vector<std::string> best_segmentation(std::string_view word) const;

  Vocabulary vocabulary_;
  std::vector<double> scores_;
  std::optional<std::int64_t> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0;
  std::size_t longest_piece_ = 0;
};

}  // namespace peft::hf
