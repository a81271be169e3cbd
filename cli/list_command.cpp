#include <algorithm>
#include <array>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "plugin_loader.h"

namespace peft::cli {
namespace {

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

nlohmann::json to_json(const PluginSet& plugins) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& record : plugins.records) {
    nlohmann::json item{{"path", record.path.string()}, {"status", record.loaded() ? "loaded" : "rejected"},
                        {"kind", record.kind},          {"name", record.name},
                        {"version", record.version},    {"summary", record.summary},
                        {"build_tag", record.build_tag}};
    item["api_version"] = record.api_version == 0 ? nlohmann::json(nullptr) : nlohmann::json(record.api_version);
    if (!record.loaded()) item["reason"] = record.reason;
    records.push_back(std::move(item));
  }
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& folder : plugins.folders) folders.push_back(folder.path.string());
  return {{"plugins", records}, {"search_path", folders}};
}

void print_table(const PluginSet& plugins) {
  if (plugins.records.empty()) std::cout << "(no plugins found)\n";
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows{{"KIND", "NAME", "VERSION", "API", "STATUS", "PATH"}};
  for (const auto& record : plugins.records) {
    rows.push_back({or_dash(record.kind), or_dash(record.name), or_dash(record.version),
                    record.api_version == 0 ? "-" : std::to_string(record.api_version),
                    record.loaded() ? "loaded" : "rejected", record.path.string()});
  }
  std::array<std::size_t, 6> widths{};
  for (const auto& row : rows) {
    for (std::size_t column = 0; column < row.size(); ++column)
      widths[column] = std::max(widths[column], row[column].size());
  }
  for (std::size_t index = plugins.records.empty() ? rows.size() : 0; index < rows.size(); ++index) {
    std::string line;
    for (std::size_t column = 0; column < rows[index].size(); ++column) {
      line += rows[index][column];
      if (column + 1 < rows[index].size()) line += std::string(widths[column] - rows[index][column].size() + 2, ' ');
    }
    std::cout << line << '\n';
    if (index > 0 && !plugins.records[index - 1].loaded())
      std::cout << "  reason: " << plugins.records[index - 1].reason << '\n';
  }
  const auto loaded = std::count_if(plugins.records.begin(), plugins.records.end(),
                                    [](const PluginRecord& record) { return record.loaded(); });
  std::cout << '\n'
            << loaded << " loaded, " << plugins.records.size() - static_cast<std::size_t>(loaded)
            << " rejected\nsearched:";
  for (const auto& folder : plugins.folders) std::cout << ' ' << folder.path.string();
  std::cout << "\n(add folders with PEFT_PLUGIN_PATH=dir1:dir2 or --plugin-path DIR)\n";
}

}  // namespace

int run_list_command(const GlobalOptions& global, const ListOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  if (options.json) {
    std::cout << to_json(plugins).dump(2) << '\n';
  } else {
    print_table(plugins);
  }
  return kSuccess;
}

}  // namespace peft::cli
