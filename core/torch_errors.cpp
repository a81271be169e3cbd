#include "torch_errors.h"

#include <cstdio>
#include <regex>

#include "peft/error.h"

namespace peft {

std::string torch_reason(const c10::Error& error) {
  std::string text = error.what_without_backtrace();
  text = text.substr(0, text.find('\n'));
  if (text.rfind("[enforce fail at ", 0) == 0) {
    const auto condition_end = text.find(". ", text.find("] "));
    if (condition_end != std::string::npos) text = text.substr(condition_end + 2);
  }
  return text;
}

std::optional<std::uint64_t> failed_allocation_bytes(const c10::Error& error) {
  static const std::regex cpu("can't allocate memory: you tried to allocate ([0-9]+) bytes");
  const std::string text = error.what_without_backtrace();
  std::smatch match;
  if (std::regex_search(text, match, cpu)) return std::stoull(match[1].str());
  return std::nullopt;
}

std::string bytes_text(std::uint64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%llu bytes (%.1f %s)", static_cast<unsigned long long>(bytes), value, units[unit]);
  return text;
}

void throw_allocation_failure(const std::string& component, const std::string& doing, std::uint64_t bytes,
                              const std::string& hint) {
  throw Error(component, doing + " asked for " + bytes_text(bytes) +
                             " at once, more than this machine can allocate (hint: " + hint + ")");
}

}  // namespace peft
