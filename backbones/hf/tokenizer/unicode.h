#pragma once
// UTF-8 and Unicode properties as Hugging Face tokenizers (Rust) sees them: code points, Rust's char classes
// (is_whitespace, is_alphanumeric, punctuation), normalization forms through utf8proc, and from_utf8_lossy.

#include <cstddef>
#include <string>
#include <string_view>

namespace peft::hf {

/// The code point starting at `text[pos]` and its length in bytes; the text must be valid UTF-8.
char32_t code_point_at(std::string_view text, std::size_t pos, std::size_t& length);
/// The code point ending at `end` (> 0) and where it starts; the text must be valid UTF-8.
char32_t code_point_before(std::string_view text, std::size_t end, std::size_t& start);
/// Appends `code_point` to `out` as UTF-8.
void append_utf8(std::string& out, char32_t code_point);
/// The byte offset of the first invalid UTF-8 sequence in `text`, or npos when all of it is valid.
std::size_t invalid_utf8_offset(std::string_view text);
/// `bytes` with each maximal invalid subsequence replaced by U+FFFD (Rust's String::from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

/// Rust's char::is_whitespace (the White_Space property).
bool is_whitespace(char32_t c);
/// Rust's char::is_alphanumeric: a letter (L*) or a number (N*).
bool is_alphanumeric(char32_t c);
/// Rust's char::is_numeric: N*.
bool is_numeric(char32_t c);
/// A punctuation character as tokenizers' `is_punc`: ASCII punctuation or general category P*.
bool is_punctuation(char32_t c);
/// A Chinese (CJK ideograph) character as BERT's tokenizer defines it.
bool is_cjk(char32_t c);
/// A control character BERT's normalizer removes (Cc/Cf other than tab and newlines).
bool is_control(char32_t c);

enum class NormalForm { nfc, nfd, nfkc, nfkd };
/// `text` in the normal form `form` (utf8proc).
std::string normalize(std::string_view text, NormalForm form);
/// `text` lowercased code point by code point (Rust's str::to_lowercase for all but final sigma).
std::string lowercase(std::string_view text);
/// `text` with combining marks (Mn) removed (BERT's strip_accents after NFD).
std::string strip_accents(std::string_view text);

}  // namespace peft::hf
