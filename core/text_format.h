#pragma once
// Numbers as text for what peft prints and writes (progress lines, results tables, report pages).

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

/// The shortest decimal text that reads back as `value` ("0.9", "0.003", "1e-05", "3").
inline std::string shortest(double value) {
  char text[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

/// Three numbers as a list ("[0.485, 0.456, 0.406]"): per-channel means and stds.
inline std::string shortest(const std::array<double, 3>& values) {
  return "[" + shortest(values[0]) + ", " + shortest(values[1]) + ", " + shortest(values[2]) + "]";
}

}  // namespace peft
