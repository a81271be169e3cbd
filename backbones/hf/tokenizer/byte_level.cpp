#include "byte_level.h"

#include "unicode.h"

namespace peft::hf {
namespace {

// Bytes that print stay themselves; the rest take code points from 256 up, in byte order (68 of them).
constexpr char32_t kFirstShifted = 256, kShiftedCount = 68;

bool prints(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct Alphabet {
  std::array<std::string, 256> utf8;
  std::array<std::int16_t, kFirstShifted + kShiftedCount> byte;  // by code point; -1: not in the alphabet
  Alphabet() {
    byte.fill(-1);
    char32_t next = kFirstShifted;
    for (unsigned b = 0; b < 256; ++b) {
      const char32_t code_point = prints(b) ? b : next++;
      append_utf8(utf8[b], code_point);
      byte[code_point] = static_cast<std::int16_t>(b);
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
  const Alphabet& a = alphabet();
  if (character >= a.byte.size() || a.byte[character] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(a.byte[character]);
}

const std::string& byte_level_char(std::uint8_t byte) { return alphabet().utf8[byte]; }

}  // namespace peft::hf
