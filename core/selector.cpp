#include "selector.h"
#include "peft/strings.h"

#include <algorithm>
#include <numeric>

#include "peft/error.h"

namespace peft {
namespace {

[[noreturn]] void bad_pattern(const std::string& pattern, const std::string& problem) {
  throw Error("selector", "bad pattern '" + pattern + "': " + problem);
}

long long parse_index(const std::string& text, const std::string& pattern) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      text.size() > 9) {
    bad_pattern(pattern, "index '" + text + "' is not a non-negative integer (expected [a-b] or [i,j,...])");
  }
  return std::stoll(text);
}

bool is_integer(const std::string& segment) {
  return !segment.empty() && segment.size() <= 18 &&
         std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

SitePattern SitePattern::parse(const std::string& text) {
  SitePattern pattern;
  pattern.text_ = text;
  if (text.rfind("re:", 0) == 0) {
    pattern.is_regex_ = true;
    // std::regex compiles by recursion: tens of thousands of nested groups overflowed the stack (a crash, not an
    // error). Patterns that select layers are a few dozen characters.
    constexpr std::size_t kMaxRegex = 1000;
    if (text.size() - 3 > kMaxRegex) {
      bad_pattern(text.substr(0, 40) + "...", "a regular expression of " + std::to_string(text.size() - 3) +
                                                  " characters, expected at most " + std::to_string(kMaxRegex));
    }
    // libstdc++ matches by backtracking unless asked not to, and backtracking is exponential in nested repeats
    // (`re:(.*)*(.*)*x` ran for minutes on a 20-character name). Its breadth-first matcher is polynomial; it has no
    // back-references, which are then refused as an invalid pattern.
    auto syntax = std::regex::ECMAScript;
#ifdef __GLIBCXX__
    syntax |= std::regex_constants::__polynomial;
#endif
    try {
      pattern.regex_ = std::regex(text.substr(3), syntax);
    } catch (const std::regex_error& e) {
      bad_pattern(text, std::string("invalid regular expression (") + e.what() + ")");
    }
    return pattern;
  }
  if (text.empty()) bad_pattern(text, "empty pattern");
  for (const auto& segment : split(text, '.')) {
    if (segment.empty()) bad_pattern(text, "empty segment (two dots, or a dot at an end)");
    if (segment == "*") {
      pattern.segments_.emplace_back(AnySegment{});
    } else if (segment == "**") {
      pattern.segments_.emplace_back(AnySegments{});
    } else if (segment.front() == '[') {
      if (segment.back() != ']' || segment.size() < 3)
        bad_pattern(text, "index set '" + segment + "' is not [a-b] or [i,j,...]");
      IndexSet set;
      for (const auto& item : split(std::string_view(segment).substr(1, segment.size() - 2), ',')) {
        const std::size_t dash = item.find('-');
        const long long low = parse_index(item.substr(0, dash), text);
        const long long high = dash == std::string::npos ? low : parse_index(item.substr(dash + 1), text);
        if (high < low) bad_pattern(text, "range '" + item + "' runs backwards (expected low-high)");
        set.ranges.emplace_back(low, high);
      }
      pattern.segments_.emplace_back(std::move(set));
    } else if (segment.find_first_of("*[]") != std::string::npos) {
      bad_pattern(text,
                  "'" + segment + "' mixes text with '*' or '[' (a wildcard is a whole segment; use re: for more)");
    } else {
      pattern.segments_.emplace_back(Literal{segment});
    }
  }
  return pattern;
}

bool SitePattern::segment_matches(const Segment& segment, const std::string& name) {
  if (const auto* literal = std::get_if<Literal>(&segment)) return literal->text == name;
  if (const auto* set = std::get_if<IndexSet>(&segment)) {
    if (!is_integer(name)) return false;
    const long long index = std::stoll(name);
    return std::any_of(set->ranges.begin(), set->ranges.end(),
                       [&](const auto& range) { return range.first <= index && index <= range.second; });
  }
  return true;  // AnySegment
}

bool SitePattern::matches(const std::string& name) const {
  if (is_regex_) return std::regex_match(name, regex_);
  const auto segments = split(name, '.');
  const std::size_t count = segments.size();
  // rest[n]: the pattern's segments from p on match segments[n..] exactly. Built from the last pattern segment back,
  // one row per segment, so a pattern of many `**` costs segments x names, not a search over every way to split.
  std::vector<char> rest(count + 1, 0);
  rest[count] = 1;
  for (std::size_t p = segments_.size(); p-- > 0;) {
    const Segment& segment = segments_[p];
    std::vector<char> row(count + 1, 0);
    if (std::holds_alternative<AnySegments>(segment)) {
      char any_later = 0;
      for (std::size_t n = count + 1; n-- > 0;) row[n] = any_later = static_cast<char>(any_later || rest[n]);
    } else {
      for (std::size_t n = 0; n < count; ++n)
        row[n] = static_cast<char>(rest[n + 1] && segment_matches(segment, segments[n]));
    }
    rest = std::move(row);
  }
  // Anchored at the end, free at the start: any trailing run of the name.
  return std::any_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(count), [](char ok) { return ok != 0; });
}

std::vector<std::string> closest_names(const std::string& text, const std::vector<std::string>& names,
                                       std::size_t count) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  // Patterns match a trailing run of segments, so a name is also compared by its tail of as many segments as the
  // pattern has: "blocks.9.attn.proj" is one edit from blocks.5.attn.proj, whatever the prefix.
  const std::size_t pattern_segments = split(text, '.').size();
  for (const auto& name : names) {
    const auto segments = split(name, '.');
    std::string tail = name;
    if (segments.size() > pattern_segments) {
      tail =
          join(std::vector<std::string>(segments.end() - static_cast<std::ptrdiff_t>(pattern_segments), segments.end()),
               ".");
    }
    scored.emplace_back(std::min(edit_distance(text, name), edit_distance(text, tail)), name);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> closest;
  for (std::size_t i = 0; i < scored.size() && i < count; ++i) closest.push_back(scored[i].second);
  return closest;
}

std::vector<std::string> select_sites(const std::vector<std::string>& names, const std::vector<std::string>& targets,
                                      const std::vector<std::string>& exclude) {
  if (targets.empty()) throw Error("selector", "targets is empty, expected at least one pattern (e.g. \"attn.proj\")");
  const auto compile = [](const std::vector<std::string>& texts) {
    std::vector<SitePattern> patterns;
    for (const auto& text : texts) patterns.push_back(SitePattern::parse(text));
    return patterns;
  };
  const auto no_match = [&](const std::string& role, const SitePattern& pattern) {
    return Error("selector", role + " '" + pattern.text() + "' matches no site (closest: " +
                                 join(closest_names(pattern.text(), names)) + "; see peft inspect)");
  };
  const std::vector<SitePattern> target_patterns = compile(targets);
  const std::vector<SitePattern> exclude_patterns = compile(exclude);

  for (const auto& pattern : exclude_patterns) {
    if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return pattern.matches(n); })) {
      throw no_match("exclude pattern", pattern);
    }
  }
  std::vector<std::string> kept;
  for (const auto& name : names) {
    if (std::none_of(exclude_patterns.begin(), exclude_patterns.end(),
                     [&](const SitePattern& p) { return p.matches(name); })) {
      kept.push_back(name);
    }
  }
  std::vector<bool> used(target_patterns.size(), false);
  std::vector<std::string> selected;
  for (const auto& name : kept) {
    bool any = false;
    for (std::size_t i = 0; i < target_patterns.size(); ++i) {
      if (target_patterns[i].matches(name)) used[i] = any = true;
    }
    if (any) selected.push_back(name);
  }
  for (std::size_t i = 0; i < target_patterns.size(); ++i) {
    if (used[i]) continue;
    const bool excluded_all =
        std::any_of(names.begin(), names.end(), [&](const std::string& n) { return target_patterns[i].matches(n); });
    if (excluded_all) {
      throw Error("selector", "target '" + target_patterns[i].text() + "' matches only excluded sites");
    }
    throw no_match("target", target_patterns[i]);
  }
  return selected;
}

}  // namespace peft
