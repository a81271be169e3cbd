#pragma once
// tokenizer.json's `decoder`: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, WordPiece and Sequence of
// them, each turning the list of token strings into another list (tokenizers' decode_chain); the text is their
// concatenation. Any other type is refused by name when the file loads.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace peft::hf {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  /// The text of `tokens`.
  std::string decode(std::vector<std::string> tokens) const;
};

/// The decoder `json` describes (null: none); `where` names it in errors.
std::unique_ptr<Decoder> decoder_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace peft::hf
