#include "hf_tokenizer.h"

#include <algorithm>

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {
namespace {

// Where the post-processor puts a sequence: the ids before and after a one-id marker.
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> wrapping(const PostProcessor* post) {
  if (post == nullptr) return {};
  constexpr std::int64_t kMarker = -1;
  const std::vector<std::int64_t> wrapped = post->process({kMarker});
  const auto at = std::find(wrapped.begin(), wrapped.end(), kMarker);
  if (at == wrapped.end()) return {};
  return {{wrapped.begin(), at}, {at + 1, wrapped.end()}};
}

}  // namespace

HfTokenizer::HfTokenizer(TokenizerParts parts) : parts_(std::move(parts)) {
  added_ = std::make_unique<AddedVocabulary>(std::move(parts_.added_tokens), parts_.normalizer.get());
  std::tie(prefix_, suffix_) = wrapping(parts_.post_processor.get());
}

std::vector<std::int64_t> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (const std::size_t bad = invalid_utf8_offset(text); bad != std::string_view::npos) {
    throw Error("tokenizer", "text is not valid UTF-8 at byte " + std::to_string(bad));
  }
  std::vector<Split> pieces = added_->split(text, parts_.normalizer.get());
  if (parts_.pre_tokenizer) parts_.pre_tokenizer->pre_tokenize(pieces);
  std::vector<std::int64_t> ids;
  ids.reserve(text.size() / 3 + 4);
  for (const Split& piece : pieces) {
    if (piece.id) {
      ids.push_back(*piece.id);
    } else {
      parts_.model->tokenize(piece.text, ids);
    }
  }
  if (add_special_tokens && parts_.post_processor) ids = parts_.post_processor->process(std::move(ids));
  return ids;
}

std::string HfTokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const std::int64_t id : ids) {
    std::optional<std::string> token = id_to_token(id);
    if (!token || (skip_special_tokens && added_->is_special(*token))) continue;
    tokens.push_back(std::move(*token));
  }
  if (parts_.decoder) return parts_.decoder->decode(std::move(tokens));
  std::string joined;
  for (std::size_t i = 0; i < tokens.size(); ++i) joined += (i > 0 ? " " : "") + tokens[i];
  return joined;
}

std::optional<std::int64_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (const auto id = added_->id(token)) return id;
  return parts_.model->vocabulary().id(token);
}

std::optional<std::string> HfTokenizer::id_to_token(std::int64_t id) const {
  if (const AddedToken* added = added_->token(id)) return added->content;
  if (const std::string* token = parts_.model->vocabulary().token(id)) return *token;
  return std::nullopt;
}

std::int64_t HfTokenizer::vocab_size() const {
  std::int64_t bound = parts_.model->vocabulary().id_bound();
  for (const AddedToken& token : added_->tokens()) bound = std::max(bound, token.id + 1);
  return bound;
}

bool HfTokenizer::is_special(std::int64_t id) const {
  const AddedToken* added = added_->token(id);
  return added != nullptr && added->special;
}

}  // namespace peft::hf
