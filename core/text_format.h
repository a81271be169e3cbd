#pragma once
// Numbers as text for what peft prints and writes (progress lines, results tables, report pages).

#include <cstdint>
#include <cstdio>
#include <string>

namespace peft {

/// `value` with `decimals` digits after the point ("84.60").
inline std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/// `value` with thousands separators ("1,205,253").
inline std::string with_thousands(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int position = static_cast<int>(digits.size()) - 3; position > 0; position -= 3) {
    digits.insert(static_cast<std::size_t>(position), ",");
  }
  return value < 0 ? "-" + digits : digits;
}

/// `value` in scientific notation with `decimals` digits after the point ("9.38e-03"): learning rates.
inline std::string scientific(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*e", decimals, value);
  return text;
}

}  // namespace peft
