#pragma once
/// \file
/// The tokenizer capability of a text backbone: text ↔ token ids as the model was trained on them, with its special
/// tokens. Tasks that read text (`jsonl` data, generation) ask the backbone for it (`Backbone::tokenizer()`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peft/api.h"

namespace peft {

class PEFT_API Tokenizer {
 public:
  Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  virtual ~Tokenizer();

  /// `text` as ids, without special tokens.
  virtual std::vector<std::int64_t> encode(const std::string& text) const = 0;
  /// `ids` as text (special tokens dropped).
  virtual std::string decode(const std::vector<std::int64_t>& ids) const = 0;
  virtual std::int64_t vocab_size() const = 0;
  virtual std::optional<std::int64_t> bos_id() const = 0;
  virtual std::optional<std::int64_t> eos_id() const = 0;
  virtual std::optional<std::int64_t> pad_id() const = 0;
  /// Whether a sequence starts with BOS / ends with EOS for this model (tokenizer_config.json's add_bos_token,
  /// add_eos_token; LLaMA: BOS yes, EOS no).
  virtual bool adds_bos() const = 0;
  virtual bool adds_eos() const = 0;

  /// `text` as the model reads a whole sequence: encode(), with BOS and EOS where the tokenizer adds them.
  std::vector<std::int64_t> encode_sequence(const std::string& text) const;
};

}  // namespace peft
