#pragma once
// tokenizer.json's `added_tokens`: strings found in the text before the model sees it (the chat markers, <bos>, …),
// each with the flags tokenizers gives it: special (dropped by decode when asked), normalized (matched in the
// normalized text rather than the original), lstrip / rstrip (swallow the whitespace beside it), single_word (only
// where it is not part of a longer word).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "splits.h"

namespace peft::hf {

class Normalizer;

struct AddedToken {
  std::string content;
  std::int64_t id = 0;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

class AddedVocabulary {
 public:
  /// `normalizer` (may be null) gives the form in which `normalized` tokens are looked for.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  /// `text` cut at the tokens that match in the original text (normalized = false), then each other piece
  /// normalized and cut at the tokens that match in normalized text.
  std::vector<Split> split(std::string_view text, const Normalizer* normalizer) const;

  std::optional<std::int64_t> id(std::string_view content) const;
  /// The token of `id` when it is an added one, else nullptr.
  const AddedToken* token(std::int64_t id) const;
  bool is_special(std::string_view content) const { return special_.count(std::string(content)) > 0; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the contents it matches; a node's token is the index into tokens_, or -1.
  class Trie {
   public:
    void insert(std::string_view pattern, std::int32_t token);
    bool empty() const { return nodes_.size() <= 1; }
    /// The longest pattern starting at `pos`: its end and token, or token -1.
    std::pair<std::size_t, std::int32_t> longest_at(std::string_view text, std::size_t pos) const;

   private:
    struct Node {
      std::int32_t token = -1;
    };
    std::vector<Node> nodes_{Node{}};
    std::unordered_map<std::uint64_t, std::int32_t> children_;
    std::array<bool, 256> starts_{};  // whether a pattern starts with the byte: most positions need no lookup
  };

  void cut_at(const Split& piece, const Trie& trie, std::vector<Split>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::int64_t, std::size_t> by_id_;
  std::unordered_map<std::string, std::int64_t> by_content_;
  std::unordered_set<std::string> special_;
  Trie original_, normalized_;
};

}  // namespace peft::hf
