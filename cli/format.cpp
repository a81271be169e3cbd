#include "format.h"

#include <algorithm>
#include <cstdio>

#include "log/log.h"

namespace peft::cli {

std::vector<std::string> format_columns(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  std::vector<std::string> lines;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t column = 0; column < row.size(); ++column) {
      line += row[column];
      if (column + 1 < row.size()) line += std::string(widths[column] - row[column].size() + 2, ' ');
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void warn_rejections(const PluginSet& plugins) {
  for (const auto& record : plugins.records) {
    if (!record.loaded()) log::warn("plugin rejected: " + record.path.string() + ": " + record.reason);
  }
}

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", 100.0 * fraction);
  return text;
}

}  // namespace peft::cli
