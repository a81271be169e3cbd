#include "splits.h"

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {
namespace {

struct Span {
  std::size_t start, end;
  bool is_match;
};

// The whole of [0, size) as alternating spans of non-matches and matches.
std::vector<Span> spans_of(const Matches& matches, std::size_t size, bool invert) {
  std::vector<Span> spans;
  if (size == 0) return {{0, 0, invert}};
  std::size_t previous = 0;
  for (const auto& [start, end] : matches) {
    if (previous != start) spans.push_back({previous, start, invert});
    spans.push_back({start, end, !invert});
    previous = end;
  }
  if (previous != size) spans.push_back({previous, size, invert});
  return spans;
}

// Spans folded as tokenizers folds them: a match joins the piece before (or after) it, or runs of equal kind join.
std::vector<Span> fold(const std::vector<Span>& spans, SplitBehavior behavior) {
  std::vector<Span> kept;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::removed:
      for (const Span& span : spans) {
        if (!span.is_match) kept.push_back(span);
      }
      return kept;
    case SplitBehavior::isolated:
      return spans;
    case SplitBehavior::merged_with_previous:
      for (const Span& span : spans) {
        if (span.is_match && !previous_match && !kept.empty()) {
          kept.back().end = span.end;
        } else {
          kept.push_back(span);
        }
        previous_match = span.is_match;
      }
      return kept;
    case SplitBehavior::merged_with_next:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) {
          kept.back().start = it->start;
        } else {
          kept.push_back(*it);
        }
        previous_match = it->is_match;
      }
      return {kept.rbegin(), kept.rend()};
    case SplitBehavior::contiguous:
      for (const Span& span : spans) {
        if (span.is_match == previous_match && !kept.empty()) {
          kept.back().end = span.end;
        } else {
          kept.push_back(span);
        }
        previous_match = span.is_match;
      }
      return kept;
  }
  return kept;
}

}  // namespace

SplitBehavior split_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::removed;
  if (name == "Isolated") return SplitBehavior::isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
  if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
  if (name == "Contiguous") return SplitBehavior::contiguous;
  throw Error("tokenizer", where + ": behavior '" + name +
                               "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

std::vector<Split> cut(const Split& split, const Matches& matches, SplitBehavior behavior, bool invert) {
  std::vector<Split> pieces;
  for (const Span& span : fold(spans_of(matches, split.text.size(), invert), behavior)) {
    if (span.end == span.start) continue;
    pieces.push_back(
        {split.text.substr(span.start, span.end - span.start), std::nullopt, split.at_start && span.start == 0});
  }
  return pieces;
}

Matches find_literal(std::string_view text, std::string_view literal) {
  Matches matches;
  if (literal.empty()) return matches;
  for (std::size_t at = text.find(literal); at != std::string_view::npos; at = text.find(literal, at)) {
    matches.emplace_back(at, at + literal.size());
    at += literal.size();
  }
  return matches;
}

Matches find_code_points(std::string_view text, const std::function<bool(char32_t)>& matches) {
  Matches found;
  for (std::size_t pos = 0, length = 0; pos < text.size(); pos += length) {
    if (matches(code_point_at(text, pos, length))) found.emplace_back(pos, pos + length);
  }
  return found;
}

}  // namespace peft::hf
