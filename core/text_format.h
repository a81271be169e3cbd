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

}  // namespace peft
