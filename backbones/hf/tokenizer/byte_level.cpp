#include "byte_level.h"

#include <vector>

#include "unicode.h"

namespace peft::hf {
namespace {

// Bytes that print stay themselves; the rest take code points from 256 up, in byte order.
struct Alphabet {
  std::array<char32_t, 256> code_point{};
  std::array<std::string, 256> utf8;
  Alphabet() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      code_point[b] = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(utf8[b], code_point[b]);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

std::string to_byte_level(std::string_view bytes) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char byte : bytes) out += a.utf8[static_cast<std::uint8_t>(byte)];
  return out;
}

std::optional<std::uint8_t> byte_of(char32_t character) {
  if (character < 256) {
    const bool printable = (character >= '!' && character <= '~') || (character >= 0xA1 && character <= 0xAC) ||
                           (character >= 0xAE && character <= 0xFF);
    if (printable) return static_cast<std::uint8_t>(character);
    return std::nullopt;
  }
  const Alphabet& a = alphabet();
  for (int b = 0; b < 256; ++b) {
    if (a.code_point[b] == character) return static_cast<std::uint8_t>(b);
  }
  return std::nullopt;
}

const std::string& byte_level_char(std::uint8_t byte) { return alphabet().utf8[byte]; }

}  // namespace peft::hf
