#include "model.h"

#include <cstdio>

namespace peft::hf {

Vocabulary::Vocabulary(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].empty()) continue;
    ids_.emplace(tokens_[i], static_cast<std::int64_t>(i));
  }
}

std::optional<std::int64_t> Vocabulary::id(std::string_view token) const {
  const auto found = ids_.find(token);
  if (found == ids_.end()) return std::nullopt;
  return found->second;
}

const std::string* Vocabulary::token(std::int64_t id) const {
  if (id < 0 || id >= id_bound() || tokens_[static_cast<std::size_t>(id)].empty()) return nullptr;
  return &tokens_[static_cast<std::size_t>(id)];
}

std::string byte_fallback_token(unsigned char byte) {
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", byte);
  return name;
}

}  // namespace peft::hf
