#pragma once
// What a tokenizer model does (BPE, WordPiece, Unigram): one pre-tokenized word to ids, and its vocabulary.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace peft::hf {

/// Tokens by id and ids by token. Ids may have gaps (an empty token there); the token strings never move, so the
/// map's keys can view them.
class Vocabulary {
 public:
  Vocabulary() = default;
  /// `tokens[i]` is the token of id i; a duplicate token keeps its first id, as tokenizers does for GGUF lists.
  explicit Vocabulary(std::vector<std::string> tokens);
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;
  Vocabulary(Vocabulary&&) = default;
  Vocabulary& operator=(Vocabulary&&) = default;

  std::optional<std::int64_t> id(std::string_view token) const;
  /// The token of `id`, or nullptr outside the vocabulary.
  const std::string* token(std::int64_t id) const;
  /// How many tokens it holds.
  std::int64_t size() const { return static_cast<std::int64_t>(ids_.size()); }
  /// One more than the largest id.
  std::int64_t id_bound() const { return static_cast<std::int64_t>(tokens_.size()); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string_view, std::int64_t> ids_;
};

/// The byte-fallback token of `byte`: "<0x0A>" for a newline.
std::string byte_fallback_token(unsigned char byte);

class Model {
 public:
  virtual ~Model() = default;
  /// Appends the ids of `word` (one pre-token, already normalized) to `ids`.
  virtual void tokenize(std::string_view word, std::vector<std::int64_t>& ids) const = 0;
  virtual const Vocabulary& vocabulary() const = 0;
};

}  // namespace peft::hf
