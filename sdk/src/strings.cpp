#include "peft/strings.h"

namespace peft {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool names_module(std::string_view name, std::string_view module) {
  if (name == module) return true;
  return name.size() > module.size() && name.substr(name.size() - module.size()) == module &&
         name[name.size() - module.size() - 1] == '.';
}

}  // namespace peft
