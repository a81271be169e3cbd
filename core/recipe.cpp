#include "recipe.h"

#include <toml++/toml.h>
#include <cctype>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>

#include "peft/error.h"
#include "peft/registry.h"
#include "peft/strings.h"
#include "text_format.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

// The tables and keys a recipe may have at its top level; the model tables are read here, the rest by their
// commands.
const std::set<std::string> kTopLevelKeys{"schema_version", "name",   "seed", "device", "threads", "task",
                                          "backbone",       "method", "data", "train",  "output",  "sweep"};

std::string location(const fs::path& file, const toml::node& node) {
  // Values from --set carry the override as their source path.
  const auto& source = node.source().path;
  if (source && *source != file.string()) return *source;
  return file.string() + ":" + std::to_string(node.source().begin.line);
}

[[noreturn]] void fail(const fs::path& file, const toml::node& node, const std::string& message) {
  throw Error("recipe", location(file, node) + ": " + message);
}

// "a table", "an integer", ... for messages.
std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "a list";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

// A TOML value as an option value: scalars as they are; lists of integers, numbers (integers allowed) or strings.
// Messages name `key` after the value's location, unless it is empty (a --set value's location names its key).
OptionValue to_option(const fs::path& file, const std::string& key, const toml::node& node) {
  const std::string what = key.empty() ? "" : key + ": ";
  if (const auto* value = node.as_boolean()) return value->get();
  if (const auto* value = node.as_integer()) return static_cast<std::int64_t>(value->get());
  if (const auto* value = node.as_floating_point()) return value->get();
  if (const auto* value = node.as_string()) return value->get();
  if (const auto* array = node.as_array()) {
    if (array->is_homogeneous(toml::node_type::integer)) {
      std::vector<std::int64_t> values;
      for (const auto& item : *array) values.push_back(item.as_integer()->get());
      return values;
    }
    if (array->is_homogeneous(toml::node_type::string)) {
      std::vector<std::string> values;
      for (const auto& item : *array) values.push_back(item.as_string()->get());
      return values;
    }
    std::vector<double> values;
    for (const auto& item : *array) {
      if (const auto* integer = item.as_integer()) {
        values.push_back(static_cast<double>(integer->get()));
      } else if (const auto* number = item.as_floating_point()) {
        values.push_back(number->get());
      } else {
        fail(file, item,
             what + "a list must hold only integers, only numbers or only strings, found " + type_name(item));
      }
    }
    return values;
  }
  fail(file, node, what + type_name(node) + " is not an option value");
}

std::string require_string(const fs::path& file, const toml::table& table, const std::string& table_name,
                           const std::string& key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    throw Error("recipe", location(file, table) + ": [" + table_name + "] needs " + key + " = \"...\"");
  }
  if (!node->is_string())
    fail(file, *node, "[" + table_name + "] " + key + " must be a string, got " + type_name(*node));
  return node->as_string()->get();
}

std::vector<std::string> string_list(const fs::path& file, const toml::node& node, const std::string& key) {
  if (const auto* text = node.as_string()) return {text->get()};
  const auto* array = node.as_array();
  if (array == nullptr || !(array->empty() || array->is_homogeneous(toml::node_type::string))) {
    fail(file, node, key + " must be a list of strings, got " + type_name(node));
  }
  std::vector<std::string> values;
  for (const auto& item : *array) values.push_back(item.as_string()->get());
  return values;
}

const toml::table& require_table(const fs::path& file, const toml::table& root, const std::string& key) {
  const toml::node* node = root.get(key);
  if (node == nullptr) throw Error("recipe", file.string() + ": the recipe has no [" + key + "] table");
  if (!node->is_table()) fail(file, *node, key + " must be a table, got " + type_name(*node));
  return *node->as_table();
}

// Copies every key of `table` except `reserved` into `section` as a plugin option.
void read_options(const fs::path& file, const toml::table& table, const std::string& table_name,
                  const std::set<std::string>& reserved, RecipeTable& section) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (reserved.count(name) != 0) continue;
    section.options[name] = to_option(file, "[" + table_name + "] " + name, node);
    section.option_contexts[name] = location(file, node) + " [" + table_name + "]";
  }
}

BackboneSection read_backbone(const fs::path& file, const toml::table& root) {
  const toml::table& table = require_table(file, root, "backbone");
  BackboneSection section;
  section.context = file.string() + " [backbone]";
  section.plugin = require_string(file, table, "backbone", "plugin");
  if (const toml::node* checkpoint = table.get("checkpoint")) {
    if (!checkpoint->is_string()) fail(file, *checkpoint, "[backbone] checkpoint must be a string (a path)");
    const fs::path path = checkpoint->as_string()->get();
    section.checkpoint = path.is_absolute() ? path : file.parent_path() / path;
  }
  if (const toml::node* head = table.get("head")) {
    if (!head->is_string() || (head->as_string()->get() != "keep" && head->as_string()->get() != "new")) {
      fail(file, *head, "[backbone] head must be \"keep\" (a checkpoint head that fits the data stays) or \"new\"");
    }
    section.head = head->as_string()->get();
  }
  read_options(file, table, "backbone", {"plugin", "checkpoint", "head"}, section);
  // A Hugging Face config.json named without weights (a model made from its config, to pretrain): a path, resolved
  // against the recipe's folder as checkpoint is.
  if (const auto found = section.options.find("config"); found != section.options.end()) {
    if (const auto* text = std::get_if<std::string>(&found->second); text && fs::path(*text).is_relative()) {
      found->second = (file.parent_path() / *text).string();
    }
  }
  return section;
}

MethodSection read_method(const fs::path& file, const toml::table& root) {
  const toml::table& table = require_table(file, root, "method");
  MethodSection section;
  section.context = file.string() + " [method]";
  section.options_context = file.string() + " [method.options]";
  section.plugin = require_string(file, table, "method", "plugin");
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name == "plugin") continue;
    if (name == "targets") {
      section.targets = string_list(file, node, "[method] targets");
    } else if (name == "exclude") {
      section.exclude = string_list(file, node, "[method] exclude");
    } else if (name == "options") {
      if (!node.is_table()) fail(file, node, "[method] options must be a table ([method.options])");
      read_options(file, *node.as_table(), "method.options", {}, section);
    } else {
      fail(file, node, "[method] unknown key '" + name + "', expected plugin, targets, exclude, options");
    }
  }
  return section;
}

RecipeTable read_table(const fs::path& file, const toml::table& root, const std::string& name) {
  RecipeTable table;
  table.context = file.string() + " [" + name + "]";
  if (root.contains(name)) read_options(file, require_table(file, root, name), name, {}, table);
  return table;
}

// More intra-op threads than this only slows a run down (and 100000 hung creating them).
std::int64_t most_threads() {
  const std::int64_t cores = std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  return std::min<std::int64_t>(1024, 8 * cores);
}

// Top-level scalars: seed, device, threads, task.
void read_run_settings(const fs::path& file, const toml::table& root, Recipe& recipe) {
  if (const toml::node* task = root.get("task")) {
    if (!task->is_string() || !is_valid_plugin_name(task->as_string()->get())) {
      fail(file, *task, "task must be a task name such as \"image_classification\" (peft list shows the tasks)");
    }
    recipe.task = task->as_string()->get();
    recipe.task_context = location(file, *task) + " task";
  }
  if (const toml::node* seed = root.get("seed")) {
    if (!seed->is_integer() || seed->as_integer()->get() < 0) fail(file, *seed, "seed must be an integer >= 0");
    recipe.seed = static_cast<std::uint64_t>(seed->as_integer()->get());
  }
  if (const toml::node* device = root.get("device")) {
    const std::string value = device->is_string() ? device->as_string()->get() : "";
    const bool cuda_index = value.rfind("cuda:", 0) == 0 && value.size() > 5 &&
                            value.find_first_not_of("0123456789", 5) == std::string::npos;
    if (value != "auto" && value != "cpu" && value != "cuda" && !cuda_index) {
      fail(file, *device, "device must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\"");
    }
    recipe.device = value;
  }
  if (const toml::node* threads = root.get("threads")) {
    if (!threads->is_integer() || threads->as_integer()->get() < 0) {
      fail(file, *threads, "threads must be an integer >= 0 (0 = all cores)");
    }
    recipe.threads = threads->as_integer()->get();
    const std::int64_t most = most_threads();
    if (recipe.threads > most) {
      fail(file, *threads,
           "threads = " + std::to_string(recipe.threads) + " is more than " + std::to_string(most) +
               " (8 per core of this machine's " + std::to_string(std::thread::hardware_concurrency()) +
               ", at most 1024; 0 = all cores)");
    }
  }
}

// The shortest decimal text that reads back as `value`, still a TOML float ("0.0", "0.003", "1e-05").
std::string shortest_float(double value) {
  std::string text = shortest(value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // "n": inf and nan
  return text;
}

// `text` (TOML as toml++ writes it) with every float outside strings in its shortest form: toml++ prints 17
// significant digits, so 0.9 would read "0.90000000000000002" in a run's recipe.toml.
std::string with_shortest_floats(const std::string& text) {
  std::string out;
  char quote = 0;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (quote != 0) {
      out += c;
      if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == quote) {
        quote = 0;
      }
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      out += c;
      ++i;
      continue;
    }
    const bool starts_number = (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '+') &&
                               (i == 0 || std::strchr(" =[,{\t", text[i - 1]) != nullptr);
    if (!starts_number) {
      out += c;
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && std::strchr("0123456789.eE+-_", text[end]) != nullptr) ++end;
    const std::string token = text.substr(i, end - i);
    if (token.find_first_of(".eE") != std::string::npos && token.find('_') == std::string::npos) {
      out += shortest_float(std::strtod(token.c_str(), nullptr));
    } else {
      out += token;
    }
    i = end;
  }
  return out;
}

// [sweep]: grid = { "train.lr" = [...], ... }, tune = { train_split, eval_split }, final = { ... }, seeds = [...],
// final_seeds = [...], metric = "top1".
SweepSection read_sweep(const fs::path& file, const toml::table& root, std::uint64_t seed) {
  const toml::table& table = require_table(file, root, "sweep");
  SweepSection sweep;
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name == "grid") {
      if (!node.is_table()) fail(file, node, "[sweep] grid must be a table of key = [values]");
      for (const auto& [grid_key, values] : *node.as_table()) {
        const auto* array = values.as_array();
        if (array == nullptr || array->empty()) {
          fail(file, values, "[sweep] grid." + std::string(grid_key.str()) + " must be a non-empty list of values");
        }
        std::vector<std::string> texts;
        for (const auto& value : *array) {
          std::ostringstream text;
          value.visit([&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, toml::value<double>>) {
              text << shortest_float(*v);  // 3e-3 reads "0.003" in trial names, not "0.0030000000000000001"
            } else if constexpr (toml::is_value<decltype(v)>) {
              text << v;
            } else {
              text << toml::toml_formatter(v);
            }
          });
          texts.push_back(text.str());
        }
        sweep.grid.emplace_back(std::string(grid_key.str()), std::move(texts));
      }
    } else if (name == "tune" || name == "final") {
      if (!node.is_table()) fail(file, node, "[sweep] " + name + " must be a table { train_split, eval_split }");
      const toml::table& splits = *node.as_table();
      for (const auto& [split_key, value] : splits) {
        const std::string which(split_key.str());
        if ((which != "train_split" && which != "eval_split") || !value.is_string()) {
          fail(file, value, "[sweep] " + name + "." + which + ": expected train_split or eval_split = \"name\"");
        }
        std::string& target = name == "tune"
                                  ? (which == "train_split" ? sweep.tune_train_split : sweep.tune_eval_split)
                                  : (which == "train_split" ? sweep.final_train_split : sweep.final_eval_split);
        target = value.as_string()->get();
      }
    } else if (name == "seeds" || name == "final_seeds") {
      const auto* array = node.as_array();
      if (array == nullptr || array->empty() || !array->is_homogeneous(toml::node_type::integer)) {
        fail(file, node, "[sweep] " + name + " must be a non-empty list of integers");
      }
      auto& seeds = name == "seeds" ? sweep.seeds : sweep.final_seeds;
      for (const auto& value : *array) seeds.push_back(value.as_integer()->get());
    } else if (name == "metric") {
      if (!node.is_string() || !is_valid_plugin_name(node.as_string()->get())) {
        fail(file, node, "[sweep] metric must name one of the task's metrics, e.g. \"top1\"");
      }
      sweep.metric = node.as_string()->get();
      sweep.metric_context = location(file, node) + " [sweep] metric";
    } else {
      fail(file, node, "[sweep] unknown key '" + name + "', expected grid, tune, final, seeds, final_seeds, metric");
    }
  }
  if (sweep.grid.empty()) throw Error("recipe", file.string() + ": [sweep] needs a grid = { \"train.lr\" = [...] }");
  if (sweep.seeds.empty()) sweep.seeds.push_back(static_cast<std::int64_t>(seed));
  if (sweep.final_seeds.empty()) sweep.final_seeds = sweep.seeds;
  return sweep;
}

toml::table& table_of(toml::table& root, const std::string& name) {
  if (!root.contains(name)) root.insert(name, toml::table{});
  return *root.get(name)->as_table();
}

void insert_value(toml::table& table, const std::string& key, const OptionValue& value) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool> || std::is_same_v<V, std::int64_t> || std::is_same_v<V, double> ||
                      std::is_same_v<V, std::string>) {
          table.insert_or_assign(key, v);
        } else {
          toml::array array;
          for (const auto& item : v) array.push_back(item);
          table.insert_or_assign(key, std::move(array));
        }
      },
      value);
}

// The recipe as a run folder keeps it: paths absolute, defaults written out.
std::string resolved_toml(toml::table root, const Recipe& recipe) {
  root.insert_or_assign("name", recipe.name);
  root.insert_or_assign("seed", static_cast<std::int64_t>(recipe.seed));
  root.insert_or_assign("device", recipe.device);
  root.insert_or_assign("threads", recipe.threads);
  toml::table& backbone = table_of(root, "backbone");
  if (recipe.backbone.checkpoint) {
    backbone.insert_or_assign("checkpoint", fs::absolute(*recipe.backbone.checkpoint).lexically_normal().string());
  }
  if (const auto config = recipe.backbone.options.find("config"); config != recipe.backbone.options.end()) {
    if (const auto* file = std::get_if<std::string>(&config->second)) {  // resolved by read_backbone
      backbone.insert_or_assign("config", fs::absolute(*file).lexically_normal().string());
    }
  }
  if (root.contains("data") && root.get("data")->is_table()) {
    toml::table& data = *root.get("data")->as_table();
    if (const auto* data_root = data.get("root"); data_root && data_root->is_string()) {
      const fs::path path = data_root->as_string()->get();
      if (path.is_relative()) {
        data.insert_or_assign("root", fs::absolute(recipe.file.parent_path() / path).lexically_normal().string());
      }
    }
  }
  const auto fill = [&](const std::string& name, const std::vector<OptionSpec>& specs) {
    toml::table& table = table_of(root, name);
    for (const auto& spec : specs) {
      if (!table.contains(spec.name) && spec.default_value) insert_value(table, spec.name, *spec.default_value);
    }
  };
  fill("train", train_option_specs());
  fill("output", output_option_specs());
  std::ostringstream text;
  text << root << '\n';
  return with_shortest_floats(text.str());
}

}  // namespace

namespace {

void apply_override(toml::table& root, const std::string& assignment, const std::string& source) {
  const std::size_t equals = assignment.find('=');
  const std::string key = assignment.substr(0, equals);
  if (equals == std::string::npos || key.empty()) {
    const std::string example = source == "--set" ? " (e.g. --set train.lr=5e-4)" : "";
    throw Error("recipe", source + " expects key=value" + example + ", got '" + assignment + "'");
  }
  const std::string origin = source + " " + key;
  const std::string text = assignment.substr(equals + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("value = " + text, origin);
  } catch (const toml::parse_error& error) {
    // A number TOML cannot hold (99999999999999999999) is that, not a string.
    const bool numeric = !text.empty() && text.find_first_of("0123456789") != std::string::npos &&
                         text.find_first_not_of("0123456789+-._eE") == std::string::npos;
    if (numeric) {
      throw Error("recipe",
                  origin + ": cannot read the value '" + text + "' (" + std::string(error.description()) + ")");
    }
    // Not TOML: a plain string, quoted so that it keeps the --set as its source.
    std::string quoted = "\"";
    for (const char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    try {
      parsed = toml::parse("value = " + quoted + "\"", origin);
    } catch (const toml::parse_error& quoted_error) {
      throw Error("recipe",
                  origin + ": cannot read the value '" + text + "' (" + std::string(quoted_error.description()) + ")");
    }
  }
  const std::vector<std::string> parts = split(key, '.');
  for (const auto& part : parts) {
    if (part.empty()) throw Error("recipe", origin + ": empty key segment");
  }
  toml::table* table = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    toml::node* next = table->get(parts[i]);
    if (next == nullptr) next = &table->insert_or_assign(parts[i], toml::table{}).first->second;
    if (!next->is_table()) throw Error("recipe", origin + ": '" + parts[i] + "' is not a table in the recipe");
    table = next->as_table();
  }
  const std::string& last = parts.back();
  // Moved, not copied: toml++ keeps a node's source (the --set) only when it moves.
  parsed.get("value")->visit([&](auto&& value) { table->insert_or_assign(last, std::move(value)); });
}

}  // namespace

std::map<std::string, OptionValue> parse_option_assignments(const std::vector<std::string>& assignments,
                                                            const std::string& source) {
  toml::table root;
  for (const auto& assignment : assignments) apply_override(root, assignment, source);
  std::map<std::string, OptionValue> options;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    options[name] = to_option(source, "", node);  // the value's location is "--option name"
  }
  return options;
}

std::optional<fs::path> data_root(const Recipe& recipe) {
  if (!recipe.data) return std::nullopt;
  const auto found = recipe.data->options.find("root");
  if (found == recipe.data->options.end()) return std::nullopt;
  const auto* root = std::get_if<std::string>(&found->second);
  if (root == nullptr) return std::nullopt;
  return fs::path(*root).is_relative() ? recipe.file.parent_path() / *root : fs::path(*root);
}

Recipe load_recipe(const fs::path& file, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& more, const std::string& more_source) {
  if (fs::is_directory(file)) throw Error("recipe", file.string() + " is a folder, expected a recipe file (TOML)");
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    if (!fs::exists(file)) throw Error("recipe", file.string() + ": no such file");
    throw Error("recipe", file.string() + ":" + std::to_string(error.source().begin.line) + ": " +
                              std::string(error.description()));
  }
  for (const auto& assignment : overrides) apply_override(root, assignment, "--set");
  for (const auto& assignment : more) apply_override(root, assignment, more_source);
  Recipe recipe;
  recipe.file = file;
  for (const auto& [key, node] : root) {
    if (kTopLevelKeys.count(std::string(key.str())) == 0) {
      fail(file, node,
           "unknown key '" + std::string(key.str()) +
               "', expected one of: " + join(std::vector<std::string>(kTopLevelKeys.begin(), kTopLevelKeys.end())));
    }
  }
  const toml::node* version = root.get("schema_version");
  if (version == nullptr) throw Error("recipe", file.string() + ": schema_version = 1 is missing");
  if (!version->is_integer() || version->as_integer()->get() != 1) {
    fail(file, *version, "schema_version must be 1 (the only version this peft reads)");
  }
  recipe.name = file.stem().string();
  if (const toml::node* name = root.get("name")) {
    if (!name->is_string() || name->as_string()->get().empty()) fail(file, *name, "name must be a non-empty string");
    recipe.name = name->as_string()->get();
    // It names the run folder runs/<name>: one path segment, which cannot climb out of runs/.
    if (recipe.name == "." || recipe.name == ".." || recipe.name.find('/') != std::string::npos ||
        recipe.name.find('\0') != std::string::npos) {
      fail(file, *name,
           "name = \"" + recipe.name + "\" must be one path segment (it names the run folder runs/<name>)");
    }
  }
  read_run_settings(file, root, recipe);
  recipe.backbone = read_backbone(file, root);
  if (root.contains("method")) recipe.method = read_method(file, root);
  if (root.contains("data")) {
    RecipeTable data;
    data.context = file.string() + " [data]";
    read_options(file, require_table(file, root, "data"), "data", {}, data);
    recipe.data = std::move(data);
  }
  if (root.contains("sweep")) recipe.sweep = read_sweep(file, root, recipe.seed);
  recipe.train_table = read_table(file, root, "train");
  recipe.train = read_train_options(recipe.train_table);
  recipe.output = read_output_options(read_table(file, root, "output"));
  recipe.resolved_toml = resolved_toml(root, recipe);
  return recipe;
}

std::optional<fs::path> BackboneSection::config_folder() const {
  const auto config = options.find("config");
  if (config == options.end()) return std::nullopt;
  const auto* file = std::get_if<std::string>(&config->second);
  if (file == nullptr) return std::nullopt;
  return fs::path(*file).parent_path();
}

}  // namespace peft
