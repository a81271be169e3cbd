// adapter_config.json: the keys that describe the run are the host's, whatever a method plugin wrote, and a run's
// file that disagrees with its adapter is refused.
#include "adapter_file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "peft/error.h"
#include "support/builtin_plugins.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;

namespace {

const fs::path kLlama = fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny";

// The tiny llama with a method's sites named as if attached, and no trained head.
peft::AdaptedModel llama_with_sites() {
  peft::AdaptedModel model =
      peft::unadapted(peft::test::make_backbone("llama", {{"config", (kLlama / "config.json").string()}}));
  model.site_names = {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"};
  return model;
}

}  // namespace

CATCH_TEST_CASE("the host owns modules_to_save, target_modules, task_type and base_model_name_or_path") {
  const peft::AdaptedModel model = llama_with_sites();
  // A plugin that hard-codes what is the run's to say (a head a LLaMA has not, targets it was not attached to).
  const std::string plugin_config =
      R"({"peft_type": "LORA", "r": 4, "modules_to_save": ["head"], "target_modules": ["qkv"], "task_type": "X"})";
  // The weights named through a detour, relative to the working directory.
  const fs::path weights = fs::relative(kLlama / ".." / "llama_tiny" / "model.safetensors.index.json");
  const auto config = nlohmann::json::parse(peft::adapter_config_text(plugin_config, model, weights));
  CATCH_CHECK(config["modules_to_save"].is_null());
  CATCH_CHECK(config["target_modules"] == nlohmann::json(model.site_names));
  CATCH_CHECK(config["task_type"] == "CAUSAL_LM");
  CATCH_CHECK(config["r"] == 4);  // the method's own keys stay
  // One rule: the absolute, normalised model folder, which HF peft and llama.cpp's converter resolve anywhere.
  CATCH_CHECK(config["base_model_name_or_path"] == fs::absolute(kLlama).lexically_normal().string());
}

CATCH_TEST_CASE("a run's adapter_config.json that is garbage, or edited, is refused naming the key") {
  peft::test::TempFolder folder;
  peft::AdaptedModel model = llama_with_sites();
  model.method = peft::test::builtin_registry().methods().at("full").create(peft::Options());
  model.method_name = "full";
  const std::string written = peft::adapter_config_text(model.method->adapter_config_json(), model, std::nullopt);
  const fs::path file = folder / "adapter_config.json";
  CATCH_CHECK_THROWS_WITH(
      peft::check_adapter_config(folder.path(), model),
      "[adapter] " + file.string() + " is missing (a run folder holds the adapter_config.json it was saved with)");
  peft::test::write_text(file, "garbage");
  CATCH_CHECK_THROWS_WITH(peft::check_adapter_config(folder.path(), model),
                          "[adapter] " + file.string() + " is not a JSON object");
  peft::test::write_text(file, written);
  CATCH_CHECK_NOTHROW(peft::check_adapter_config(folder.path(), model));
  auto edited = nlohmann::json::parse(written);
  edited["method"] = "lora";
  peft::test::write_text(file, edited.dump());
  CATCH_CHECK_THROWS_WITH(peft::check_adapter_config(folder.path(), model),
                          "[adapter] " + file.string() +
                              ": method = \"lora\", but the run's adapter has \"full\" (the file was edited, or comes "
                              "from another run)");
}
