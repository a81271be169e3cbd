#pragma once
// A compiled Oniguruma pattern (the engine Hugging Face tokenizers uses), found over UTF-8 text as the `onig`
// crate's find_iter finds it.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace peft::hf {

class Regex {
 public:
  /// Compiles `pattern` (Ruby syntax, UTF-8); a bad pattern is a peft::Error naming `where`.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// Every match in `text` as [start, end) byte offsets, left to right, without overlap; an empty match right
  /// after the previous match is skipped, as the onig crate does.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

 private:
  void* regex_ = nullptr;  // OnigRegex; searching it is thread-safe, each search has its own region
};

}  // namespace peft::hf
