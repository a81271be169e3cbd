#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "peft/strings.h"
#include "plugin_loader.h"
#include "recipe_keys.h"

namespace peft::cli {
namespace {

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

// The options a loaded record's plugin declares (none for rejected records and folders).
const std::vector<OptionSpec>* declared_options(const PluginSet& plugins, const PluginRecord& record) {
  if (!record.loaded()) return nullptr;
  if (record.kind == "method") {
    if (const auto* entry = plugins.registry.methods().find(record.name)) return &entry->options;
  } else if (record.kind == "task") {
    if (const auto* entry = plugins.registry.tasks().find(record.name)) return &entry->options;
  } else if (const auto* entry = plugins.registry.backbones().find(record.name)) {
    return &entry->options;
  }
  return nullptr;
}

// Where a task comes from: its plugin's path, or the host itself.
std::string task_origin(const TaskEntry& entry) { return entry.origin.empty() ? "built in" : entry.origin; }

std::string default_text(const OptionSpec& spec) {
  return spec.default_value ? to_string(*spec.default_value) : "(unset)";
}

std::string type_text(const OptionSpec& spec, const std::vector<std::string>& table_keys) {
  const bool table = std::find(table_keys.begin(), table_keys.end(), spec.name) != table_keys.end();
  return table ? "table" : to_string(spec.type);
}

nlohmann::json to_json(const std::vector<OptionSpec>& specs, const std::vector<std::string>& table_keys = {}) {
  nlohmann::json options = nlohmann::json::array();
  for (const auto& spec : specs) {
    options.push_back(
        {{"name", spec.name},
         {"type", type_text(spec, table_keys)},
         {"default", spec.default_value ? nlohmann::json(to_string(*spec.default_value)) : nlohmann::json(nullptr)},
         {"aliases", spec.aliases},
         {"doc", spec.doc}});
  }
  return options;
}

void print_keys(const std::string& title, const std::vector<OptionSpec>& specs,
                const std::vector<std::string>& table_keys = {}) {
  std::cout << '\n' << title << (specs.empty() ? " (none)" : "") << '\n';
  if (specs.empty()) return;
  std::vector<std::vector<std::string>> rows{{"KEY", "TYPE", "DEFAULT", "MEANING"}};
  for (const auto& spec : specs) {
    std::string doc = spec.doc;
    if (!spec.aliases.empty()) doc += " (also: " + join(spec.aliases) + ")";
    rows.push_back({spec.name, type_text(spec, table_keys), default_text(spec), doc});
  }
  for (const auto& line : format_columns(rows, "  ")) std::cout << line << '\n';
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
    if (const auto* specs = declared_options(plugins, record)) item["options"] = to_json(*specs);
    records.push_back(std::move(item));
  }
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& entry : plugins.registry.tasks().entries()) {
    tasks.push_back({{"name", entry.name},
                     {"summary", entry.summary},
                     {"origin", task_origin(entry)},
                     {"data_keys", to_json(entry.options)}});
  }
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& folder : plugins.folders) folders.push_back(folder.path.string());
  nlohmann::json recipe = nlohmann::json::object();
  for (const auto& table : recipe_key_tables())
    recipe[table.table.empty() ? "(top level)" : table.table] = to_json(table.keys, table.table_keys);
  return {{"plugins", records}, {"tasks", tasks}, {"search_path", folders}, {"recipe", recipe}};
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
  std::cout << "\n(add folders with PEFT_PLUGIN_PATH=dir1:dir2 or --plugin-path DIR)\n\ntasks (recipe key task):\n";
  std::vector<std::vector<std::string>> tasks;
  for (const auto& entry : plugins.registry.tasks().entries()) {
    tasks.push_back({entry.name, entry.summary, "(" + task_origin(entry) + ")"});
  }
  for (const auto& line : format_columns(tasks, "  ")) std::cout << line << '\n';
}

}  // namespace

void print_options(const PluginSet& plugins) {
  for (const auto& table : recipe_key_tables()) {
    print_keys(table.table.empty() ? "recipe keys at the top level:" : "recipe [" + table.table + "] keys:", table.keys,
               table.table_keys);
  }
  for (const auto& record : plugins.records) {
    const auto* specs = declared_options(plugins, record);
    if (specs == nullptr) continue;
    if (record.kind == "task") continue;  // with the built-in tasks, below
    const std::string where = record.kind == "method" ? "[method.options]" : "[backbone]";
    print_keys(record.kind + " '" + record.name + "' options (" + where + "):", *specs);
  }
  for (const auto& entry : plugins.registry.tasks().entries()) {
    print_keys("task '" + entry.name + "' keys ([data]):", entry.options);
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
