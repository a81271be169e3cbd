// The smallest complete peft method plugin: a Method subclass, a registration function, and the entry point.
// Everything here comes from the installed SDK headers; the plugin links peft::sdk and nothing else of peft's.
#include <peft/method.h>
#include <peft/plugin.h>

#include <memory>

namespace {

class ExampleMethod final : public peft::Method {};

void register_example(peft::Registry& registry) {
  registry.add_method({"example", "Example method from the SDK's out-of-tree plugin",
                       [](const peft::Options&) { return std::make_shared<ExampleMethod>(); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "example", "0.1.0", "Example method from the SDK's out-of-tree plugin",
            register_example)
