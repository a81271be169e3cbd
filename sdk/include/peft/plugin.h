#pragma once
/// \file
/// The plugin entry point: one exported C function returning a plain descriptor.
///
/// A plugin library defines its classes, a registration function, and one `PEFT_PLUGIN` line:
///
///     #include <peft/plugin.h>
///
///     static void register_example(peft::Registry& registry) {
///       registry.add_method({"example", "Shows the SDK", [](const peft::Options&) {
///         return std::make_shared<ExampleMethod>();
///       }});
///     }
///
///     PEFT_PLUGIN(peft::PluginKind::method, "example", "0.1.0", "An example method", register_example)
///
/// The host checks, in this order and before calling any other plugin code: the entry symbol exists, the API
/// version matches exactly, the descriptor size matches, the build tag is compatible, the kind and name are
/// valid. Then it calls `register_plugin` with a registry of its own; the plugin must add exactly the entry its
/// descriptor declares. An exception thrown there rejects the plugin; it never reaches the host's caller.

#include <cstdint>

#include "peft/api.h"
#include "peft/build_tag.h"
#include "peft/registry.h"

namespace peft {

/// What a plugin provides.
enum class PluginKind : std::uint32_t { method = 1, backbone = 2, task = 3 };

/// The descriptor a plugin's entry point returns. The first two fields keep their place in every API version, so
/// any host can read them from any plugin.
struct PluginDescriptor {
  /// PEFT_API_VERSION the plugin was built with; checked first.
  std::uint32_t api_version;
  /// sizeof(PluginDescriptor) as the plugin saw it; checked second.
  std::uint32_t struct_size;
  PluginKind kind;
  /// The method, backbone or task name the plugin registers (`[a-z][a-z0-9_]*`).
  const char* name;
  /// The plugin's own version, free text without spaces (e.g. "1.2.0").
  const char* version;
  /// One line for `peft list`.
  const char* summary;
  /// PEFT_BUILD_TAG as expanded when the plugin was compiled.
  const char* build_tag;
  /// Adds the plugin's entry to `registry`.
  void (*register_plugin)(Registry& registry);
};

}  // namespace peft

/// The name of the symbol every plugin exports.
#define PEFT_PLUGIN_ENTRY_SYMBOL "peft_plugin_descriptor"

/// Defines the plugin entry point. Use once per plugin library, at namespace scope.
#define PEFT_PLUGIN(kind, name, version, summary, register_function)                                                 \
  extern "C" PEFT_EXPORT const ::peft::PluginDescriptor* peft_plugin_descriptor() {                                  \
    static const ::peft::PluginDescriptor descriptor{                                                                \
        PEFT_API_VERSION,    sizeof(::peft::PluginDescriptor), (kind), (name), (version), (summary), PEFT_BUILD_TAG, \
        &(register_function)};                                                                                       \
    return &descriptor;                                                                                              \
  }
