#include "peft/tokenizer.h"

namespace peft {

Tokenizer::~Tokenizer() = default;

std::vector<std::int64_t> Tokenizer::encode_sequence(const std::string& text) const {
  std::vector<std::int64_t> ids;
  if (adds_bos() && bos_id()) ids.push_back(*bos_id());
  const std::vector<std::int64_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (adds_eos() && eos_id()) ids.push_back(*eos_id());
  return ids;
}

}  // namespace peft
