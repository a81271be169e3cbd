#include "pre_tokenizers.h"

#include <nlohmann/json.hpp>

#include "byte_level.h"
#include "json_fields.h"
#include "pattern.h"
#include "regex.h"
#include "unicode.h"

namespace peft::hf {
namespace {

// GPT-2's split, which ByteLevel applies when use_regex is set.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(const nlohmann::json& json, const std::string& where)
      : add_prefix_space_(bool_or(json, "add_prefix_space", true, where)) {
    if (bool_or(json, "use_regex", true, where)) regex_ = std::make_unique<Regex>(kGpt2Pattern, where);
  }
  std::vector<Split> split(const Split& piece) const override {
    Split spaced = piece;
    if (add_prefix_space_ && spaced.text.rfind(' ', 0) != 0) spaced.text.insert(0, " ");
    std::vector<Split> words =
        regex_ ? cut(spaced, regex_->find_all(spaced.text), SplitBehavior::isolated) : std::vector<Split>{spaced};
    for (Split& word : words) word.text = to_byte_level(word.text);
    return words;
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class SplitPattern final : public PreTokenizer {
 public:
  SplitPattern(const nlohmann::json& json, const std::string& where)
      : pattern_(field(json, "pattern", where), where + ".pattern"),
        behavior_(split_behavior(string_field(json, "behavior", where), where + ".behavior")),
        invert_(bool_or(json, "invert", false, where)) {}
  std::vector<Split> split(const Split& piece) const override {
    return cut(piece, pattern_.find(piece.text), behavior_, invert_);
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class Metaspace final : public PreTokenizer {
 public:
  enum class Prepend { always, first, never };

  Metaspace(const nlohmann::json& json, const std::string& where)
      : replacement_(string_or(json, "replacement", "\xE2\x96\x81", where)),
        prepend_(prepend_scheme(json, where)),
        split_(bool_or(json, "split", true, where)) {}

  std::vector<Split> split(const Split& piece) const override {
    Split replaced{replace_spaces(piece.text), std::nullopt, piece.at_start};
    const bool starts_with_replacement = replaced.text.rfind(replacement_, 0) == 0;
    if (!starts_with_replacement && (prepend_ == Prepend::always || (prepend_ == Prepend::first && piece.at_start))) {
      replaced.text.insert(0, replacement_);
    }
    if (!split_) return {replaced};
    return cut(replaced, find_literal(replaced.text, replacement_), SplitBehavior::merged_with_next);
  }

 private:
  std::string replace_spaces(const std::string& text) const {
    std::string out;
    for (const char c : text) {
      if (c == ' ') {
        out += replacement_;
      } else {
        out += c;
      }
    }
    return out;
  }

  static Prepend prepend_scheme(const nlohmann::json& json, const std::string& where) {
    if (json.contains("prepend_scheme") && !json.at("prepend_scheme").is_null()) {
      const std::string scheme = string_field(json, "prepend_scheme", where);
      if (scheme == "always") return Prepend::always;
      if (scheme == "first") return Prepend::first;
      if (scheme == "never") return Prepend::never;
      throw Error("tokenizer", where + ".prepend_scheme: expected always, first or never, got '" + scheme + "'");
    }
    return bool_or(json, "add_prefix_space", true, where) ? Prepend::always : Prepend::never;
  }

  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

// Words of \w characters and runs of other non-space characters: `\w+|[^\w\s]+`, with \w as the Rust regex
// crate reads it (Alphabetic, marks, digits, connectors and Join_Control: a ZWJ joins a word), wider than
// Oniguruma's.
class Whitespace final : public PreTokenizer {
 public:
  explicit Whitespace(const std::string& where)
      : regex_(R"([\w\p{Alphabetic}\p{Join_Control}]+|[^\w\s\p{Alphabetic}\p{Join_Control}]+)", where) {}
  std::vector<Split> split(const Split& piece) const override {
    return cut(piece, regex_.find_all(piece.text), SplitBehavior::removed, true);
  }

 private:
  Regex regex_;
};

// A split at each code point for which `matches` holds.
class CodePointSplit final : public PreTokenizer {
 public:
  CodePointSplit(std::function<bool(char32_t)> matches, SplitBehavior behavior)
      : matches_(std::move(matches)), behavior_(behavior) {}
  std::vector<Split> split(const Split& piece) const override {
    return cut(piece, find_code_points(piece.text, matches_), behavior_);
  }

 private:
  std::function<bool(char32_t)> matches_;
  SplitBehavior behavior_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  std::vector<Split> split(const Split& piece) const override {
    std::vector<Split> words{piece};
    for (const auto& step : steps_) step->pre_tokenize(words);
    return words;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

std::unique_ptr<PreTokenizer> bert_pre_tokenizer() {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(std::make_unique<CodePointSplit>(is_whitespace, SplitBehavior::removed));
  steps.push_back(std::make_unique<CodePointSplit>(is_punctuation, SplitBehavior::isolated));
  return std::make_unique<Sequence>(std::move(steps));
}

}  // namespace

void PreTokenizer::pre_tokenize(std::vector<Split>& splits) const {
  std::vector<Split> words;
  words.reserve(splits.size());
  for (Split& piece : splits) {
    if (piece.id) {
      words.push_back(std::move(piece));
      continue;
    }
    for (Split& word : split(piece)) words.push_back(std::move(word));
  }
  splits = std::move(words);
}

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& json, const std::string& where) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json, where);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>(json, where);
  if (type == "Split") return std::make_unique<SplitPattern>(json, where);
  if (type == "Metaspace") return std::make_unique<Metaspace>(json, where);
  if (type == "Whitespace") return std::make_unique<Whitespace>(where);
  if (type == "WhitespaceSplit") return std::make_unique<CodePointSplit>(is_whitespace, SplitBehavior::removed);
  if (type == "BertPreTokenizer") return bert_pre_tokenizer();
  if (type == "Sequence") {
    return std::make_unique<Sequence>(
        parts_from_json<PreTokenizer>(json, "pretokenizers", where, pre_tokenizer_from_json));
  }
  if (type == "Digits") {
    if (bool_or(json, "individual_digits", false, where)) {
      return std::make_unique<CodePointSplit>(is_numeric, SplitBehavior::isolated);
    }
    return std::make_unique<CodePointSplit>(is_numeric, SplitBehavior::contiguous);
  }
  if (type == "Punctuation") {
    const SplitBehavior behavior = split_behavior(string_or(json, "behavior", "Isolated", where), where + ".behavior");
    return std::make_unique<CodePointSplit>(is_punctuation, behavior);
  }
  if (type == "CharDelimiterSplit") {
    const std::string delimiter = string_field(json, "delimiter", where);
    std::size_t length = 0;
    const char32_t c = delimiter.empty() ? 0 : code_point_at(delimiter, 0, length);
    return std::make_unique<CodePointSplit>([c](char32_t x) { return x == c; }, SplitBehavior::removed);
  }
  throw Error("tokenizer", where + ": pre_tokenizer type '" + type +
                               "' is not supported (supported: ByteLevel, Split, Metaspace, Whitespace, "
                               "WhitespaceSplit, Digits, Punctuation, BertPreTokenizer, CharDelimiterSplit, Sequence)");
}

}  // namespace peft::hf
