#pragma once
// The text between the pipeline's steps: pieces of the input, each either still text or already an added token's
// id, and the ways tokenizers cuts a piece at a pattern's matches (SplitDelimiterBehavior).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace peft::hf {

struct Split {
  std::string text;
  /// Set once the piece is an added token: later steps leave it alone.
  std::optional<std::int64_t> id;
  /// Whether the piece begins where the input began (Metaspace's prepend_scheme "first").
  bool at_start = false;
};

using Matches = std::vector<std::pair<std::size_t, std::size_t>>;

enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

/// "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext" or "Contiguous"; anything else is a
/// peft::Error naming `where`.
SplitBehavior split_behavior(const std::string& name, const std::string& where);

/// `split` cut at `matches` (sorted, without overlap) as `behavior` says, the matches inverted first when
/// `invert`; empty pieces are dropped.
std::vector<Split> cut(const Split& split, const Matches& matches, SplitBehavior behavior, bool invert = false);

/// Each occurrence of `literal` in `text`, left to right, without overlap.
Matches find_literal(std::string_view text, std::string_view literal);
/// Each code point of `text` for which `matches` holds, one match per code point.
Matches find_code_points(std::string_view text, const std::function<bool(char32_t)>& matches);

}  // namespace peft::hf
