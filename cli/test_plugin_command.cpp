#include <ATen/Parallel.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "contract/method_contract.h"
#include "exit_code.h"
#include "format.h"
#include "peft/error.h"
#include "plugin_loader.h"
#include "recipe.h"

namespace peft::cli {
namespace {

// The method plugins at `paths` (files or folders of them), loaded into a registry of their own so that a plugin
// also installed, or one named twice, is not a duplicate of itself.
Registry load_subjects(const std::vector<std::filesystem::path>& paths) {
  Registry subjects;
  PluginLoader loader(subjects);
  for (const auto& path : paths) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      loader.load_folder({path, false});
    } else if (std::filesystem::exists(path, error)) {
      loader.load_file(path);
    } else {
      throw Error("test-plugin", path.string() + " does not exist (expected a plugin file or a folder of them)");
    }
  }
  for (const auto& record : loader.records()) {
    if (!record.loaded()) throw Error("test-plugin", record.path.string() + ": " + record.reason);
  }
  if (subjects.methods().names().empty()) {
    std::string named;
    for (const auto& path : paths) named += (named.empty() ? "" : ", ") + path.string();
    throw Error("test-plugin", named + " registers no method plugin (the contract suite checks methods)");
  }
  return subjects;
}

// --adapter-configs writes into a folder of its own: one that does not exist yet, or is empty.
void check_empty_folder(const std::filesystem::path& folder) {
  std::error_code error;
  if (!std::filesystem::exists(folder, error)) return;
  if (!std::filesystem::is_directory(folder, error) || !std::filesystem::is_empty(folder, error)) {
    throw Error("test-plugin", "--adapter-configs " + folder.string() +
                                   " exists and is not an empty folder (peft writes only into a new or empty one)");
  }
}

}  // namespace

int run_test_plugin_command(const GlobalOptions& global, const TestPluginCommandOptions& options) {
  at::set_num_threads(1);  // the fixtures are tiny; one thread is fastest and the same on every machine
  const PluginSet installed = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(installed);
  const Registry subjects = options.paths.empty() ? Registry() : load_subjects(options.paths);
  const Registry& methods = options.paths.empty() ? installed.registry : subjects;
  std::vector<std::string> names = options.methods;
  if (names.empty()) names = methods.methods().names();
  for (const auto& name : names) methods.methods().at(name);  // an unknown --method is an error listing the known
  const auto method_options = parse_option_assignments(options.options, "--option");
  if (!method_options.empty() && names.size() != 1) {
    throw Error("test-plugin", "--option sets one method's options, but " + std::to_string(names.size()) +
                                   " methods are to be checked (choose one with --method NAME)");
  }
  // An option the method does not have, or a value it refuses (a peft::Error from its factory), is the command's
  // error, not a failed check; anything else the factory throws is left to the checks to report.
  if (!method_options.empty()) {
    const MethodEntry& entry = methods.methods().at(names.front());
    const Options resolved = resolve_options(entry.options, method_options, "--option");
    try {
      entry.create(resolved);
    } catch (const Error&) {
      throw;
    } catch (const std::exception&) {
    }
  }

  if (!options.adapter_configs.empty()) check_empty_folder(options.adapter_configs);
  const auto fixtures = contract::fixture_backbones(installed.registry);
  std::vector<contract::CheckResult> results;
  for (const auto& name : names) {
    for (auto& result : contract::check_method(methods, name, fixtures, method_options, options.adapter_configs)) {
      if (!options.json) {
        std::cout << (result.passed() ? "  ok    " : "  FAIL  ") << result.method << " on the " << result.backbone
                  << ": " << result.check << (result.passed() ? "" : ": " + result.failure) << '\n';
      }
      results.push_back(std::move(result));
    }
  }
  std::size_t failed = 0;
  std::string first_failure;
  for (const auto& result : results) {
    if (result.passed()) continue;
    if (failed++ == 0) first_failure = result.method + " on the " + result.backbone + ": " + result.check;
  }
  if (options.json) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      checks.push_back({{"method", r.method},
                        {"backbone", r.backbone},
                        {"check", r.check},
                        {"passed", r.passed()},
                        {"failure", r.failure}});
    }
    std::cout << nlohmann::ordered_json{{"checks", checks}, {"failed", failed}}.dump(2) << '\n';
  } else {
    std::cout << results.size() << " checks of " << names.size() << (names.size() == 1 ? " method" : " methods")
              << " on " << fixtures.size() << " backbones: " << results.size() - failed << " passed, " << failed
              << " failed\n";
  }
  if (failed != 0) {
    throw Error("test-plugin", std::to_string(failed) + " of " + std::to_string(results.size()) +
                                   " contract checks failed, first: " + first_failure);
  }
  return kSuccess;
}

}  // namespace peft::cli
