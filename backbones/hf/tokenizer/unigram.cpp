#include "unigram.h"

#include <algorithm>
#include <limits>

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {
namespace {

constexpr double kUnknownPenalty = 10.0;

std::vector<std::string> tokens_of(const std::vector<std::pair<std::string, double>>& pieces) {
  std::vector<std::string> tokens;
  tokens.reserve(pieces.size());
  for (const auto& piece : pieces) tokens.push_back(piece.first);
  return tokens;
}

struct Best {
  double score = 0;
  std::size_t start = 0;
  std::int64_t id = -1;
  bool reached = false;
};

}  // namespace

Unigram::Unigram(const std::vector<std::pair<std::string, double>>& pieces, std::optional<std::int64_t> unk_id,
                 bool byte_fallback, const std::string& where)
    : vocabulary_(tokens_of(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  if (unk_id_ && (*unk_id_ < 0 || *unk_id_ >= static_cast<std::int64_t>(pieces.size()))) {
    throw Error("tokenizer", where + ".unk_id: " + std::to_string(*unk_id_) + " is outside the " +
                                 std::to_string(pieces.size()) + " pieces");
  }
  double min_score = std::numeric_limits<double>::max();
  for (const auto& [token, score] : pieces) {
    scores_.push_back(score);
    min_score = std::min(min_score, score);
    longest_piece_ = std::max(longest_piece_, token.size());
  }
  unk_score_ = min_score - kUnknownPenalty;
}

// tokenizers' Unigram::encode_optimized: the best path to each character boundary, then back from the end;
// runs of unknown characters come out as one piece.
std::vector<std::string> Unigram::best_segmentation(std::string_view word) const {
  std::vector<Best> best(word.size() + 1);
  best[0].reached = true;
  for (std::size_t start = 0, length = 0; start < word.size(); start += length) {
    code_point_at(word, start, length);
    if (!best[start].reached) continue;
    const double here = best[start].score;
    bool single_character = false;
    for (std::size_t end = start + 1; end <= std::min(word.size(), start + longest_piece_); ++end) {
      const auto id = vocabulary_.id(word.substr(start, end - start));
      if (!id) continue;
      const double candidate = here + scores_[static_cast<std::size_t>(*id)];
      if (!best[end].reached || candidate > best[end].score) best[end] = {candidate, start, *id, true};
      if (end - start == length) single_character = true;
    }
    if (!single_character) {
      const double candidate = here + unk_score_;
      Best& target = best[start + length];
      if (!target.reached || candidate > target.score) target = {candidate, start, unk_id_.value_or(-1), true};
    }
  }
  std::vector<std::string> pieces;
  std::string unknown;
  for (std::size_t end = word.size(); end > 0;) {
    const Best& node = best[end];
    const std::string piece(word.substr(node.start, end - node.start));
    if (unk_id_ && node.id == *unk_id_) {
      unknown.insert(0, piece);
    } else {
      if (!unknown.empty()) pieces.push_back(std::exchange(unknown, {}));
      pieces.push_back(piece);
    }
    end = node.start;
  }
  if (!unknown.empty()) pieces.push_back(unknown);
  std::reverse(pieces.begin(), pieces.end());
  return pieces;
}

void Unigram::tokenize(std::string_view word, std::vector<std::int64_t>& ids) const {
  for (const std::string& piece : best_segmentation(word)) {
    if (const auto id = vocabulary_.id(piece)) {
      ids.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<std::int64_t> bytes;
      for (const char byte : piece) {
        if (const auto id = vocabulary_.id(byte_fallback_token(static_cast<unsigned char>(byte)))) bytes.push_back(*id);
      }
      if (bytes.size() == piece.size()) {
        ids.insert(ids.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (!unk_id_) throw Error("tokenizer", "Unigram: '" + piece + "' is not in the vocab and the model has no unk_id");
    ids.push_back(*unk_id_);
  }
}

}  // namespace peft::hf
