#include "bpe.h"

#include <queue>

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {
namespace {

std::uint64_t pair_key(std::int64_t left, std::int64_t right) {
  return (static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint32_t>(right);
}

std::uint64_t slot_of(std::uint64_t key, std::uint64_t mask) { return (key * 0x9E3779B97F4A7C15ULL >> 20) & mask; }

// A symbol of a word being merged: a token id in a doubly linked list over the word's initial symbols.
struct Symbol {
  std::int64_t id;
  std::int32_t prev, next;
  bool alive = true;
};

struct Candidate {
  std::int32_t rank, pos, new_id;
  // The lowest rank first, then the leftmost.
  bool operator<(const Candidate& other) const { return rank != other.rank ? rank > other.rank : pos > other.pos; }
};

}  // namespace

Bpe::Bpe(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
         BpeOptions options, const std::string& where)
    : vocabulary_(std::move(tokens)), options_(std::move(options)) {
  if (options_.unk_token) {
    unk_id_ = vocabulary_.id(*options_.unk_token);
    if (!unk_id_) throw Error("tokenizer", where + ": unk_token '" + *options_.unk_token + "' is not in the vocab");
  }
  const std::size_t prefix_length = options_.continuing_subword_prefix ? options_.continuing_subword_prefix->size() : 0;
  std::uint64_t capacity = 16;
  while (capacity < 2 * merges.size()) capacity *= 2;
  merge_table_.assign(capacity, Slot{});
  merge_mask_ = capacity - 1;
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto left_id = vocabulary_.id(left);
    const auto right_id = vocabulary_.id(right);
    const std::string merged = left + right.substr(std::min(prefix_length, right.size()));
    const auto new_id = vocabulary_.id(merged);
    if (!left_id || !right_id || !new_id) {
      throw Error("tokenizer", where + ": merge " + std::to_string(rank) + " '" + left + " " + right +
                                   "' names a token that is not in the vocab");
    }
    const std::uint64_t key = pair_key(*left_id, *right_id);
    std::uint64_t slot = slot_of(key, merge_mask_);
    while (merge_table_[slot].key != kEmpty && merge_table_[slot].key != key) slot = (slot + 1) & merge_mask_;
    if (merge_table_[slot].key == kEmpty) {  // a repeated pair keeps its first (lowest) rank
      merge_table_[slot] = {key, Merge{static_cast<std::int32_t>(rank), static_cast<std::int32_t>(*new_id)}};
    }
  }
  if (options_.byte_fallback) {
    byte_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b)
      byte_ids_[b] = vocabulary_.id(byte_fallback_token(static_cast<unsigned char>(b))).value_or(-1);
  }
}

const Bpe::Merge* Bpe::merge_of(std::int64_t left, std::int64_t right) const {
  const std::uint64_t key = pair_key(left, right);
  for (std::uint64_t slot = slot_of(key, merge_mask_);; slot = (slot + 1) & merge_mask_) {
    const Slot& entry = merge_table_[slot];
    if (entry.key == key) return &entry.merge;
    if (entry.key == kEmpty) return nullptr;
  }
}

// The word's characters as ids before any merge (tokenizers' BPE::merge_word, unknown characters included).
std::vector<std::int64_t> Bpe::symbols_of(std::string_view word) const {
  std::vector<std::int64_t> symbols;
  symbols.reserve(word.size());
  std::optional<std::int64_t> pending_unk;
  std::string affixed;
  for (std::size_t pos = 0, length = 0; pos < word.size(); pos += length) {
    code_point_at(word, pos, length);
    std::string_view character = word.substr(pos, length);
    const bool is_first = pos == 0, is_last = pos + length >= word.size();
    if ((!is_first && options_.continuing_subword_prefix) || (is_last && options_.end_of_word_suffix)) {
      affixed = std::string(!is_first && options_.continuing_subword_prefix ? *options_.continuing_subword_prefix : "");
      affixed.append(character);
      if (is_last && options_.end_of_word_suffix) affixed += *options_.end_of_word_suffix;
      character = affixed;
    }
    if (const auto id = vocabulary_.id(character)) {
      if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
      symbols.push_back(*id);
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (const char byte : character) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(byte)] >= 0;
      if (all_bytes) {
        for (const char byte : character) symbols.push_back(byte_ids_[static_cast<unsigned char>(byte)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk && !options_.fuse_unk) symbols.push_back(*pending_unk);
      pending_unk = unk_id_;
    }
  }
  if (pending_unk) symbols.push_back(*pending_unk);
  return symbols;
}

// Merges the lowest-ranked adjacent pair, leftmost first, until none is left (tokenizers' Word::merge_all).
void Bpe::merge_all(std::vector<std::int64_t>& ids) const {
  const auto count = static_cast<std::int32_t>(ids.size());
  std::vector<Symbol> symbols(ids.size());
  std::priority_queue<Candidate> queue;
  for (std::int32_t i = 0; i < count; ++i) {
    symbols[i] = {ids[i], i - 1, i + 1 < count ? i + 1 : -1};
    if (i + 1 < count) {
      if (const Merge* merge = merge_of(ids[i], ids[i + 1])) queue.push({merge->rank, i, merge->new_id});
    }
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& current = symbols[top.pos];
    if (!current.alive || current.next < 0) continue;
    const Symbol right = symbols[current.next];
    const Merge* merge = merge_of(current.id, right.id);
    if (merge == nullptr || merge->new_id != top.new_id) continue;
    current.id = top.new_id;
    symbols[current.next].alive = false;
    current.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (current.prev >= 0) {
      if (const Merge* left = merge_of(symbols[current.prev].id, current.id)) {
        queue.push({left->rank, current.prev, left->new_id});
      }
    }
    if (current.next >= 0) {
      if (const Merge* next = merge_of(current.id, symbols[current.next].id)) {
        queue.push({next->rank, top.pos, next->new_id});
      }
    }
  }
  ids.clear();
  for (const Symbol& symbol : symbols) {
    if (symbol.alive) ids.push_back(symbol.id);
  }
}

void Bpe::tokenize(std::string_view word, std::vector<std::int64_t>& ids) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (const auto id = vocabulary_.id(word)) {
      ids.push_back(*id);
      return;
    }
  }
  std::vector<std::int64_t> symbols = symbols_of(word);
  merge_all(symbols);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

}  // namespace peft::hf
