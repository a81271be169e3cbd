#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "plugin_loader.h"

namespace peft::cli {
namespace {

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

// The options a loaded record's plugin declares (none for rejected records and folders).
const std::vector<OptionSpec>* declared_options(const PluginSet& plugins, const PluginRecord& record) {
  if (!record.loaded()) return nullptr;
  if (record.kind == "method") {
    if (const auto* entry = plugins.registry.methods().find(record.name)) return &entry->options;
  } else if (const auto* entry = plugins.registry.backbones().find(record.name)) {
    return &entry->options;
  }
  return nullptr;
}

std::string default_text(const OptionSpec& spec) {
  return spec.default_value ? to_string(*spec.default_value) : "(unset)";
}

nlohmann::json to_json(const PluginSet& plugins) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& record : plugins.records) {
    nlohmann::json item{{"path", record.path.string()}, {"status", record.loaded() ? "loaded" : "rejected"},
                        {"kind", record.kind},          {"name", record.name},
                        {"version", record.version},    {"summary", record.summary},
                        {"build_tag", record.build_tag}};
    item["api_version"] = record.api_version == 0 ? nlohmann::json(nullptr) : nlohmann::json(record.api_version);
    if (!record.loaded()) item["reason"] = record.reason;
    if (const auto* specs = declared_options(plugins, record)) {
      item["options"] = nlohmann::json::array();
      for (const auto& spec : *specs) {
        item["options"].push_back(
            {{"name", spec.name},
             {"type", to_string(spec.type)},
             {"default", spec.default_value ? nlohmann::json(to_string(*spec.default_value)) : nlohmann::json(nullptr)},
             {"doc", spec.doc}});
      }
    }
    records.push_back(std::move(item));
  }
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& folder : plugins.folders) folders.push_back(folder.path.string());
  return {{"plugins", records}, {"search_path", folders}};
}

void print_table(const PluginSet& plugins) {
  if (plugins.records.empty()) std::cout << "(no plugins found)\n";
  std::vector<std::vector<std::string>> rows{{"KIND", "NAME", "VERSION", "API", "STATUS", "PATH"}};
  for (const auto& record : plugins.records) {
    rows.push_back({or_dash(record.kind), or_dash(record.name), or_dash(record.version),
                    record.api_version == 0 ? "-" : std::to_string(record.api_version),
                    record.loaded() ? "loaded" : "rejected", record.path.string()});
  }
  const std::vector<std::string> lines = format_columns(rows);
  for (std::size_t index = plugins.records.empty() ? lines.size() : 0; index < lines.size(); ++index) {
    std::cout << lines[index] << '\n';
    if (index > 0 && !plugins.records[index - 1].loaded()) {
      std::cout << "  reason: " << plugins.records[index - 1].reason << '\n';
    }
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

void print_options(const PluginSet& plugins) {
  for (const auto& record : plugins.records) {
    const auto* specs = declared_options(plugins, record);
    if (specs == nullptr) continue;
    std::cout << '\n'
              << record.kind << " '" << record.name << "' options:" << (specs->empty() ? " (none)" : "") << '\n';
    std::vector<std::vector<std::string>> rows{{"KEY", "TYPE", "DEFAULT", "MEANING"}};
    for (const auto& spec : *specs) rows.push_back({spec.name, to_string(spec.type), default_text(spec), spec.doc});
    if (!specs->empty()) {
      for (const auto& line : format_columns(rows, "  ")) std::cout << line << '\n';
    }
  }
}

int run_list_command(const GlobalOptions& global, const ListOptions& options) {
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  if (options.json) {
    std::cout << to_json(plugins).dump(2) << '\n';
  } else {
    print_table(plugins);
    if (options.options) print_options(plugins);
  }
  return kSuccess;
}

}  // namespace peft::cli
