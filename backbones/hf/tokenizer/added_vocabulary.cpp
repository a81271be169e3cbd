#include "added_vocabulary.h"

#include "normalizers.h"
#include "unicode.h"

namespace peft::hf {
namespace {

bool is_word_char(char32_t c) { return is_alphanumeric(c) || c == '_'; }

bool ends_with_word(std::string_view text) {
  std::size_t start = 0;
  return !text.empty() && is_word_char(code_point_before(text, text.size(), start));
}

bool starts_with_word(std::string_view text) {
  std::size_t length = 0;
  return !text.empty() && is_word_char(code_point_at(text, 0, length));
}

// Where a run of whitespace ending at `end` begins.
std::size_t whitespace_before(std::string_view text, std::size_t end) {
  std::size_t start = end, back = 0;
  while (start > 0 && is_whitespace(code_point_before(text, start, back))) start = back;
  return start;
}

std::size_t whitespace_after(std::string_view text, std::size_t start) {
  std::size_t end = start, length = 0;
  while (end < text.size() && is_whitespace(code_point_at(text, end, length))) end += length;
  return end;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, std::int32_t token) {
  if (pattern.empty()) return;  // a token that normalizes to nothing matches nowhere
  starts_[static_cast<unsigned char>(pattern.front())] = true;
  std::int32_t node = 0;
  for (const char byte : pattern) {
    const std::uint64_t key = (static_cast<std::uint64_t>(node) << 8) | static_cast<unsigned char>(byte);
    const auto [found, inserted] = children_.try_emplace(key, static_cast<std::int32_t>(nodes_.size()));
    if (inserted) nodes_.emplace_back();
    node = found->second;
  }
  if (nodes_[node].token < 0) nodes_[node].token = token;
}

std::pair<std::size_t, std::int32_t> AddedVocabulary::Trie::longest_at(std::string_view text, std::size_t pos) const {
  std::pair<std::size_t, std::int32_t> best{pos, -1};
  if (!starts_[static_cast<unsigned char>(text[pos])]) return best;
  std::int32_t node = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const auto found = children_.find((static_cast<std::uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
    if (found == children_.end()) break;
    node = found->second;
    if (nodes_[node].token >= 0) best = {i + 1, nodes_[node].token};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    by_id_.emplace(token.id, i);
    by_content_.emplace(token.content, token.id);
    if (token.special) special_.insert(token.content);
    if (token.content.empty()) continue;
    if (token.normalized && normalizer != nullptr) {
      normalized_.insert(normalizer->normalize(token.content), static_cast<std::int32_t>(i));
    } else if (token.normalized) {
      normalized_.insert(token.content, static_cast<std::int32_t>(i));
    } else {
      original_.insert(token.content, static_cast<std::int32_t>(i));
    }
  }
}

// tokenizers' AddedVocabulary::find_matches: leftmost-longest matches, each checked and widened by its flags.
void AddedVocabulary::cut_at(const Split& piece, const Trie& trie, std::vector<Split>& out) const {
  const std::string_view text = piece.text;
  const auto emit_text = [&](std::size_t start, std::size_t end) {
    if (end > start)
      out.push_back({std::string(text.substr(start, end - start)), std::nullopt, piece.at_start && start == 0});
  };
  std::size_t offset = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto [stop, index] = trie.longest_at(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<std::size_t>(index)];
    std::size_t start = pos;
    pos = stop;
    if (token.single_word && ((start > 0 && ends_with_word(text.substr(0, start))) ||
                              (stop < text.size() && starts_with_word(text.substr(stop))))) {
      continue;
    }
    if (token.lstrip) start = std::max(whitespace_before(text, start), offset);
    if (token.rstrip) stop = whitespace_after(text, stop);
    emit_text(offset, start);
    out.push_back({std::string(text.substr(start, stop - start)), token.id, piece.at_start && start == 0});
    offset = stop;
    pos = std::max(pos, stop);
  }
  emit_text(offset, text.size());
}

std::vector<Split> AddedVocabulary::split(std::string_view text, const Normalizer* normalizer) const {
  std::vector<Split> original;
  cut_at(Split{std::string(text), std::nullopt, true}, original_, original);
  std::vector<Split> pieces;
  pieces.reserve(original.size());
  for (Split& piece : original) {
    if (piece.id) {
      pieces.push_back(std::move(piece));
      continue;
    }
    if (normalizer != nullptr) piece.text = normalizer->normalize(std::move(piece.text));
    if (piece.text.empty()) continue;
    if (normalized_.empty()) {
      pieces.push_back(std::move(piece));
    } else {
      cut_at(piece, normalized_, pieces);
    }
  }
  return pieces;
}

std::optional<std::int64_t> AddedVocabulary::id(std::string_view content) const {
  const auto found = by_content_.find(std::string(content));
  if (found == by_content_.end()) return std::nullopt;
  return found->second;
}

const AddedToken* AddedVocabulary::token(std::int64_t id) const {
  const auto found = by_id_.find(id);
  return found == by_id_.end() ? nullptr : &tokens_[found->second];
}

}  // namespace peft::hf
