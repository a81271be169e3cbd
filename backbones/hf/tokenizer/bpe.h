#pragma once
// Byte-pair encoding as tokenizers' BPE model runs it: a word's characters (or their <0xNN> bytes, with
// byte_fallback) merged pair by pair in rank order; `ignore_merges` takes a word that is itself a token whole.
// Built from token lists and merge pairs, so tokenizer.json and GGUF files both feed it.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model.h"

namespace peft::hf {

struct BpeOptions {
  /// The token for characters outside the vocabulary; none: such characters are dropped.
  std::optional<std::string> unk_token;
  /// Consecutive unknown characters become one unk token.
  bool fuse_unk = false;
  /// Characters outside the vocabulary become their UTF-8 bytes' <0xNN> tokens.
  bool byte_fallback = false;
  /// A word that is a token is that token, whatever the merges would make of it.
  bool ignore_merges = false;
  /// Prefix of every non-first symbol, and suffix of the last (WordPiece-like BPE vocabularies).
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
};

class Bpe final : public Model {
 public:
  /// `merges` in rank order; a merge whose parts or result are not tokens is a peft::Error naming `where`.
  Bpe(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options, const std::string& where);

  void tokenize(std::string_view word, std::vector<std::int64_t>& ids) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t new_id;
  };
  const Merge* merge_of(std::int64_t left, std::int64_t right) const;
  std::vector<std::int64_t> symbols_of(std::string_view word) const;
  void merge_all(std::vector<std::int64_t>& symbols) const;

  Vocabulary vocabulary_;
  BpeOptions options_;
  std::optional<std::int64_t> unk_id_;
  // Merges by (left, right) id pair in an open-addressing table: std::unordered_map's node per entry made the
  // lookups the encode's bottleneck on Gemma's 515k merges (bench/tokenizer.sh).
  struct Slot {
    std::uint64_t key = kEmpty;
    Merge merge{};
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  std::vector<Slot> merge_table_;
  std::uint64_t merge_mask_ = 0;
  std::vector<std::int64_t> byte_ids_;  // <0xNN>'s id per byte, -1 where missing
};

}  // namespace peft::hf
