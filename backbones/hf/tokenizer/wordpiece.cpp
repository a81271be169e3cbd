#include "wordpiece.h"

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {

WordPiece::WordPiece(std::vector<std::string> tokens, WordPieceOptions options, const std::string& where)
    : vocabulary_(std::move(tokens)), options_(std::move(options)) {
  const auto unk = vocabulary_.id(options_.unk_token);
  if (!unk) throw Error("tokenizer", where + ": unk_token '" + options_.unk_token + "' is not in the vocab");
  unk_id_ = *unk;
}

void WordPiece::tokenize(std::string_view word, std::vector<std::int64_t>& ids) const {
  std::vector<std::size_t> boundaries;  // byte offset of each character, then the end
  for (std::size_t pos = 0, length = 0; pos < word.size(); pos += length) {
    boundaries.push_back(pos);
    code_point_at(word, pos, length);
  }
  if (boundaries.empty()) return;
  if (boundaries.size() > options_.max_input_chars_per_word) {
    ids.push_back(unk_id_);
    return;
  }
  boundaries.push_back(word.size());
  std::vector<std::int64_t> pieces;
  std::string candidate;
  for (std::size_t start = 0; start + 1 < boundaries.size();) {
    std::optional<std::int64_t> found;
    std::size_t end = boundaries.size() - 1;
    for (; end > start; --end) {
      candidate = start > 0 ? options_.continuing_subword_prefix : std::string();
      candidate.append(word.substr(boundaries[start], boundaries[end] - boundaries[start]));
      if ((found = vocabulary_.id(candidate))) break;
    }
    if (!found) {
      ids.push_back(unk_id_);
      return;
    }
    pieces.push_back(*found);
    start = end;
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

}  // namespace peft::hf
