#pragma once
// GPT-2's byte-level alphabet: each byte as a printable code point (bytes_to_unicode), and back.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace peft::hf {

/// `bytes` with each byte written as its byte-level character (UTF-8).
std::string to_byte_level(std::string_view bytes);
/// The byte a byte-level character stands for, or nothing for a character outside the alphabet.
std::optional<std::uint8_t> byte_of(char32_t character);
/// The byte-level alphabet's character for `byte`, as UTF-8.
const std::string& byte_level_char(std::uint8_t byte);

}  // namespace peft::hf
