#pragma once
// A Hugging Face fast tokenizer (tokenizer.json) run as the Rust `tokenizers` library runs it: added tokens found
// first, then normalizer → pre-tokenizer → model per piece, and the post-processor's special tokens on request;
// decode maps ids back through the decoder.
//
//     const auto tokenizer = peft::hf::HfTokenizer::from_file("Qwen3-0.6B/tokenizer.json");
//     std::vector<std::int64_t> ids = tokenizer->encode("Hello world!", /*add_special_tokens=*/false);

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "added_vocabulary.h"
#include "decoders.h"
#include "model.h"
#include "normalizers.h"
#include "post_processors.h"
#include "pre_tokenizers.h"

namespace peft::hf {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added_tokens;
};

class HfTokenizer {
 public:
  explicit HfTokenizer(TokenizerParts parts);

  /// Reads a tokenizer.json; an unreadable file, bad JSON or an unsupported component is a peft::Error naming the
  /// file and the component.
  static std::unique_ptr<HfTokenizer> from_file(const std::filesystem::path& file);

  /// `text` (UTF-8; anything else is a peft::Error) as ids; with the post-processor's special tokens when asked.
  std::vector<std::int64_t> encode(std::string_view text, bool add_special_tokens) const;
  /// The text of `ids`; special added tokens dropped when `skip_special_tokens`; unknown ids are skipped.
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const;

  std::optional<std::int64_t> token_to_id(std::string_view token) const;
  /// The token string of `id` (added or model), or nothing.
  std::optional<std::string> id_to_token(std::int64_t id) const;
  /// One more than the largest id the model or the added tokens use.
  std::int64_t vocab_size() const;
  bool is_special(std::int64_t id) const;
  /// The ids the post-processor puts before and after a single sequence (BOS, EOS, [CLS], [SEP]).
  std::vector<std::int64_t> special_prefix() const { return prefix_; }
  std::vector<std::int64_t> special_suffix() const { return suffix_; }

 private:
  TokenizerParts parts_;
  std::unique_ptr<AddedVocabulary> added_;
  std::vector<std::int64_t> prefix_, suffix_;
};

}  // namespace peft::hf
