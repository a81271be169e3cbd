#pragma once
// tokenizer.json's `pattern`: {"String": "..."} (a literal) or {"Regex": "..."}, used by the Replace normalizer and
// decoder and by the Split pre-tokenizer.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "regex.h"
#include "splits.h"

namespace peft::hf {

class Pattern {
 public:
  /// Reads `json` ({"String": s} or {"Regex": r}); anything else is a peft::Error naming `where`.
  Pattern(const nlohmann::json& json, const std::string& where);

  Matches find(std::string_view text) const;
  /// `text` with every match replaced by `content`.
  std::string replace(std::string_view text, std::string_view content) const;

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
};

}  // namespace peft::hf
