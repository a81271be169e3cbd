#pragma once
// Numbers as text for what peft prints and writes (progress lines, results tables, report pages).

#include <cstdio>
#include <string>

namespace peft {

/// `value` with `decimals` digits after the point ("84.60").
inline std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/// `value` in scientific notation with `decimals` digits after the point ("9.38e-03"): learning rates.
inline std::string scientific(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*e", decimals, value);
  return text;
}

}  // namespace peft
