#pragma once
/// \file
/// The registry: the methods, backbones and tasks known to this process, by name.
///
/// There is no global registry. The host makes one and passes it to each plugin's registration function, which
/// adds exactly the entry its descriptor declares:
///
///     void register_example(peft::Registry& registry) {
///       registry.add_method({"example", "What it does",
///                            [](const peft::Options&) { return std::make_shared<ExampleMethod>(); }});
///
/// A plugin with options passes its OptionTable instead of a spec list (`peft/option_table.h`).
///     }

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "peft/api.h"
#include "peft/fwd.h"
#include "peft/option_table.h"
#include "peft/options.h"

namespace peft {

/// One registered method, backbone or task.
template <class Interface>
struct RegistryEntry {
  using Factory = std::function<std::shared_ptr<Interface>(const Options&)>;

  RegistryEntry(std::string name_, std::string summary_, Factory create_, std::vector<OptionSpec> options_ = {})
      : name(std::move(name_)),
        summary(std::move(summary_)),
        create(std::move(create_)),
        options(std::move(options_)) {}

  /// An entry whose options are `table`'s: the factory receives the filled options struct.
  ///
  ///     registry.add_method({"lora", "LoRA ...", lora_option_table(),
  ///                          [](const LoraOptions& options) { return std::make_shared<Lora>(options); }});
  template <class Struct, class Make>
  RegistryEntry(std::string name_, std::string summary_, const OptionTable<Struct>& table, Make make)
      : RegistryEntry(
            std::move(name_), std::move(summary_),
            [table, make](const Options& given) -> std::shared_ptr<Interface> { return make(table.read(given)); },
            table.specs()) {}

  /// The name recipes use (`[method] plugin = "lora"`).
  std::string name;
  /// One line for `peft list`.
  std::string summary;
  /// Makes a new instance from options resolved against `options`. Objects made by a plugin keep that plugin's
  /// library loaded.
  Factory create;
  /// The options the factory accepts: the keys of the recipe table (a task's: the `[data]` keys it reads).
  std::vector<OptionSpec> options;
  /// Where the entry came from: the plugin's path, set by the loader (empty for entries added in-process).
  std::string origin;
};

using MethodEntry = RegistryEntry<Method>;
using BackboneEntry = RegistryEntry<Backbone>;
using TaskEntry = RegistryEntry<Task>;

/// Names of one kind ("method", "backbone", "task") mapped to their entries, in registration order.
template <class Interface>
class PEFT_API RegistryTable {
 public:
  explicit RegistryTable(std::string kind) : kind_(std::move(kind)) {}

  /// Adds `entry`; throws peft::Error when the name is invalid, `create` is empty, or the name is taken
  /// (naming both origins).
  void add(RegistryEntry<Interface> entry);

  /// The entry called `name`, or nullptr.
  const RegistryEntry<Interface>* find(std::string_view name) const;

  /// The entry called `name`; throws peft::Error listing the known names when there is none.
  const RegistryEntry<Interface>& at(std::string_view name) const;

  const std::vector<RegistryEntry<Interface>>& entries() const { return entries_; }
  /// The registered names, in registration order.
  std::vector<std::string> names() const;
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::vector<RegistryEntry<Interface>> entries_;
};

/// The methods, backbones and tasks of one process (or, while a plugin registers, of one plugin).
class PEFT_API Registry {
 public:
  void add_method(MethodEntry entry) { methods_.add(std::move(entry)); }
  void add_backbone(BackboneEntry entry) { backbones_.add(std::move(entry)); }
  void add_task(TaskEntry entry) { tasks_.add(std::move(entry)); }

  RegistryTable<Method>& methods() { return methods_; }
  const RegistryTable<Method>& methods() const { return methods_; }
  RegistryTable<Backbone>& backbones() { return backbones_; }
  const RegistryTable<Backbone>& backbones() const { return backbones_; }
  RegistryTable<Task>& tasks() { return tasks_; }
  const RegistryTable<Task>& tasks() const { return tasks_; }

 private:
  RegistryTable<Method> methods_{"method"};
  RegistryTable<Backbone> backbones_{"backbone"};
  RegistryTable<Task> tasks_{"task"};
};

/// True when `name` can name a plugin, method, backbone or task: `[a-z][a-z0-9_]*`, at most 64 characters.
PEFT_API bool is_valid_plugin_name(std::string_view name);

extern template class RegistryTable<Method>;
extern template class RegistryTable<Backbone>;
extern template class RegistryTable<Task>;

}  // namespace peft
