#pragma once
// tokenizer.json's `normalizer`: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend,
// BertNormalizer and Sequence of them. Any other type is refused by name when the file loads.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace peft::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string text) const = 0;
};

/// The normalizer `json` describes (null: none); `where` names it in errors, e.g. "tokenizer.json: normalizer".
std::unique_ptr<Normalizer> normalizer_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace peft::hf
