#pragma once
// A LLaMA-family tokenizer: SentencePiece's tokenizer.model with the special-token settings of tokenizer_config.json
// and special_tokens_map.json, as Hugging Face's LlamaTokenizer reads them.

#include <filesystem>

#include "peft/tokenizer.h"

namespace peft::llama {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  /// Reads `folder`/tokenizer.model and, where present, tokenizer_config.json (add_bos_token, add_eos_token;
  /// defaults true and false as LlamaTokenizer) and the bos/eos/pad tokens of tokenizer_config.json or
  /// special_tokens_map.json (pieces of the model; null: none; unset: the model's own). A folder with only
  /// tokenizer.json (a fast, BPE tokenizer such as Llama-3's) is a peft::Error naming it as not supported yet; so is a
  /// tokenizer larger than `model_vocab_size`.
  SentencePieceTokenizer(const std::filesystem::path& folder, std::int64_t model_vocab_size);
  ~SentencePieceTokenizer() override;

  std::vector<std::int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<std::int64_t>& ids) const override;
  std::int64_t vocab_size() const override;
  std::optional<std::int64_t> bos_id() const override { return bos_; }
  std::optional<std::int64_t> eos_id() const override { return eos_; }
  std::optional<std::int64_t> pad_id() const override { return pad_; }
  bool adds_bos() const override { return add_bos_; }
  bool adds_eos() const override { return add_eos_; }

  /// Whether `folder` holds a tokenizer at all (tokenizer.model or tokenizer.json).
  static bool present(const std::filesystem::path& folder);

 private:
  /// A SentencePieceProcessor inside libpeft_spm (spm_shim.cpp), which owns it.
  void* processor_ = nullptr;
  std::int64_t vocab_size_ = 0;
  std::optional<std::int64_t> bos_, eos_, pad_;
  bool add_bos_ = true;
  bool add_eos_ = false;
};

}  // namespace peft::llama
