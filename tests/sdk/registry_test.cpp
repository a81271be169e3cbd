#include "peft/registry.h"

#include "peft/backbone.h"
#include "peft/method.h"

#include <catch2/catch.hpp>

#include "peft/error.h"

namespace {

class TestMethod final : public peft::Method {
 public:
  void attach(peft::Backbone&, const std::vector<peft::Site>&) override {}
  std::vector<peft::TrainableTensor> trainable_tensors() override { return {}; }
};
// Only its identity matters here.
class TestBackbone final : public peft::Backbone {
 public:
  std::vector<std::string> inputs() const override { return {peft::keys::images}; }
  peft::Outputs forward(const peft::Batch& batch) override { return {{peft::keys::logits, batch.at("images")}}; }
  std::vector<peft::Site> sites() override { return {}; }
  std::vector<std::string> load_checkpoint(const peft::CheckpointSource&) override { return {}; }
};

peft::MethodEntry method_entry(const std::string& name, const std::string& origin = "") {
  peft::MethodEntry entry{name, "a test method", [](const peft::Options&) { return std::make_shared<TestMethod>(); }};
  entry.origin = origin;
  return entry;
}

}  // namespace

CATCH_TEST_CASE("the registry finds entries by name and makes objects of the registered type") {
  peft::Registry registry;
  registry.add_method(method_entry("lora"));
  registry.add_backbone(
      {"vit", "a test backbone", [](const peft::Options&) { return std::make_shared<TestBackbone>(); }});

  CATCH_REQUIRE(registry.methods().find("lora") != nullptr);
  CATCH_CHECK(registry.methods().find("vit") == nullptr);
  CATCH_CHECK(registry.backbones().find("vit") != nullptr);
  const auto method = registry.methods().at("lora").create({});
  CATCH_CHECK(dynamic_cast<TestMethod*>(method.get()) != nullptr);
}

CATCH_TEST_CASE("a duplicate name is refused naming both origins") {
  peft::Registry registry;
  registry.add_method(method_entry("lora", "/a/liblora.so"));
  CATCH_CHECK_THROWS_WITH(registry.add_method(method_entry("lora", "/b/libother.so")),
                          "[registry] duplicate method 'lora' in /a/liblora.so and /b/libother.so");
  CATCH_CHECK(registry.methods().entries().size() == 1);
  // Methods and backbones are separate namespaces.
  CATCH_CHECK_NOTHROW(
      registry.add_backbone({"lora", "", [](const peft::Options&) { return std::make_shared<TestBackbone>(); }}));
}

CATCH_TEST_CASE("invalid names and missing factories are refused") {
  peft::Registry registry;
  CATCH_CHECK_THROWS_WITH(registry.add_method(method_entry("LoRA")), Catch::Contains("invalid method name 'LoRA'"));
  CATCH_CHECK_THROWS_WITH(registry.add_method(method_entry("")), Catch::Contains("invalid method name ''"));
  CATCH_CHECK_THROWS_WITH(registry.add_method(method_entry("9lives")), Catch::Contains("[a-z][a-z0-9_]*"));
  CATCH_CHECK_THROWS_WITH(registry.add_method({"no_factory", "", nullptr}), Catch::Contains("has no factory"));
  CATCH_CHECK(registry.methods().entries().empty());
}

CATCH_TEST_CASE("asking for an unknown name lists the known ones") {
  peft::Registry registry;
  CATCH_CHECK_THROWS_WITH(registry.methods().at("gift"),
                          Catch::Contains("unknown method 'gift'") && Catch::Contains("none loaded"));
  registry.add_method(method_entry("lora"));
  registry.add_method(method_entry("bitfit"));
  CATCH_CHECK_THROWS_WITH(registry.methods().at("gift"),
                          "[registry] unknown method 'gift', expected one of: lora, bitfit");
}

CATCH_TEST_CASE("plugin names are lower-case identifiers of at most 64 characters") {
  CATCH_CHECK(peft::is_valid_plugin_name("linear_probe"));
  CATCH_CHECK(peft::is_valid_plugin_name("vit2"));
  CATCH_CHECK(peft::is_valid_plugin_name(std::string(64, 'a')));
  CATCH_CHECK_FALSE(peft::is_valid_plugin_name(std::string(65, 'a')));
  CATCH_CHECK_FALSE(peft::is_valid_plugin_name("_lora"));
  CATCH_CHECK_FALSE(peft::is_valid_plugin_name("lo-ra"));
  CATCH_CHECK_FALSE(peft::is_valid_plugin_name("lo ra"));
}
