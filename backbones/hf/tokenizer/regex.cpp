#include "regex.h"

#include <oniguruma.h>

#include <memory>
#include <mutex>

#include "peft/error.h"
#include "unicode.h"

namespace peft::hf {
namespace {

void initialize_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string error_text(int code, OnigErrorInfo* info) {
  OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
  onig_error_code_to_str(message, code, info);
  return reinterpret_cast<const char*>(message);
}

struct RegionDeleter {
  void operator()(OnigRegion* region) const { onig_region_free(region, 1); }
};

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) {
  initialize_oniguruma();
  OnigErrorInfo info{};
  OnigRegex compiled = nullptr;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int code =
      onig_new(&compiled, begin, begin + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &info);
  if (code != ONIG_NORMAL) {
    throw Error("tokenizer", where + ": regex " + pattern + " does not compile: " + error_text(code, &info));
  }
  regex_ = compiled;
}

Regex::~Regex() { onig_free(static_cast<OnigRegex>(regex_)); }

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> matches;
  const std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
  const auto* begin = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* end = begin + text.size();
  std::size_t from = 0;
  bool matched_before = false;
  std::size_t previous_end = 0;
  while (from <= text.size()) {
    const int found =
        onig_search(static_cast<OnigRegex>(regex_), begin, end, begin + from, end, region.get(), ONIG_OPTION_NONE);
    if (found < 0) break;
    const auto start = static_cast<std::size_t>(region->beg[0]);
    const auto stop = static_cast<std::size_t>(region->end[0]);
    if (start == stop && matched_before && previous_end == stop) {
      std::size_t length = 1;
      if (from < text.size()) code_point_at(text, from, length);
      from += length;
      continue;
    }
    matches.emplace_back(start, stop);
    from = stop;
    matched_before = true;
    previous_end = stop;
  }
  return matches;
}

}  // namespace peft::hf
