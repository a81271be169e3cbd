#pragma once

#include <regex>
#include <string>
#include <variant>
#include <vector>

namespace peft {

/// One pattern of a `targets` or `exclude` list:
/// - `attn.proj` matches a name that equals it or ends with `.attn.proj` (every pattern matches a whole trailing
///   run of name segments, as Hugging Face peft's target_modules do);
/// - `*` matches one segment, `**` any number (`blocks.*.attn.proj`, `**.fc1`);
/// - `[8-11]` or `[0,2,4]` (or `[0-3,7]`) matches a segment that is one of those integers;
/// - `re:<regex>` is an ECMAScript regular expression that must match the whole name, matched breadth-first (time
///   polynomial in the name's length; back-references are refused).
class SitePattern {
 public:
  /// Throws peft::Error naming the pattern on a malformed index set, a partial-segment `*` or a bad regex.
  static SitePattern parse(const std::string& text);

  bool matches(const std::string& name) const;
  const std::string& text() const { return text_; }

 private:
  struct Literal {
    std::string text;
  };
  struct AnySegment {};
  struct AnySegments {};
  struct IndexSet {
    std::vector<std::pair<long long, long long>> ranges;
  };
  using Segment = std::variant<Literal, AnySegment, AnySegments, IndexSet>;

  static bool segment_matches(const Segment& segment, const std::string& name);

  std::string text_;
  bool is_regex_ = false;
  std::regex regex_;
  std::vector<Segment> segments_;
};

/// The names of `names` that some `targets` pattern matches and no `exclude` pattern does, in `names`' order.
/// Strict: a target or exclude pattern that matches no name is a peft::Error listing the closest names, and so is
/// an empty `targets`.
std::vector<std::string> select_sites(const std::vector<std::string>& names, const std::vector<std::string>& targets,
                                      const std::vector<std::string>& exclude = {});

/// Up to `count` names of `names` closest to `text` by edit distance, closest first.
std::vector<std::string> closest_names(const std::string& text, const std::vector<std::string>& names,
                                       std::size_t count = 3);

}  // namespace peft
