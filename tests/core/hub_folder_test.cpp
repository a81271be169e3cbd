// A timm hub folder as `[backbone] checkpoint`: what its config.json says about the model and its preprocessing is
// applied as timm's create_model / resolve_data_config apply it, under what the recipe sets itself.
#include "hub_folder.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "data/data_plan.h"
#include "model_builder.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "support/builtin_plugins.h"
#include "support/image_data.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

// A hub folder holding the 32-pixel pico ViT fixture and `config` as its config.json.
fs::path hub_folder(const TempFolder& folder, const std::string& config) {
  const fs::path hub = folder / "vit_pico_patch4_32.fashion";
  fs::create_directories(hub);
  if (!fs::exists(hub / "model.safetensors")) {
    fs::copy_file(std::string(PEFT_REFERENCE_FIXTURE_DIR) + "/timm_vit_p4_s32.safetensors", hub / "model.safetensors");
  }
  write_text(hub / "config.json", config);
  return hub;
}

peft::BackboneSection vit_section(const fs::path& checkpoint) {
  peft::BackboneSection section;
  section.plugin = "vit";
  section.context = "recipe.toml [backbone]";
  section.checkpoint = checkpoint;
  return section;
}

const peft::BackboneEntry& vit_entry() { return *peft::test::builtin_registry().backbones().find("vit"); }

std::string error_of(const fs::path& hub) {
  peft::BackboneSection section = vit_section(hub);
  try {
    peft::read_hub_folder(hub, section, vit_entry());
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a hub folder's pretrained_cfg replaces the backbone's preprocessing, key by key") {
  TempFolder folder;
  const fs::path hub = hub_folder(folder, R"({"architecture": "vit_pico_patch4_32", "num_classes": 5,
      "pretrained_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "crop_pct": 0.9,
                         "input_size": [3, 32, 32], "num_classes": 5, "tag": "fashion"}})");
  const peft::BuiltBackbone built = peft::build_backbone(peft::test::builtin_registry(), vit_section(hub));
  const peft::Preprocessing own = built.backbone->image_input()->preprocessing();
  CATCH_CHECK(built.preprocessing.mean == std::array<double, 3>{0.485, 0.456, 0.406});
  CATCH_CHECK(built.preprocessing.std == std::array<double, 3>{0.229, 0.224, 0.225});
  CATCH_CHECK(built.preprocessing.crop_pct == 0.9);
  CATCH_CHECK(built.preprocessing.interpolation == own.interpolation);  // not in the file: the backbone's
  CATCH_CHECK(built.preprocessing.image_size == 32);
  CATCH_CHECK(own.mean == std::array<double, 3>{0.5, 0.5, 0.5});
  const std::string notice = "preprocessing from " + (hub / "config.json").string() +
                             ": mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225], bicubic resize, crop_pct 0.9";
  CATCH_CAPTURE(built.notices);
  CATCH_CHECK(std::find(built.notices.begin(), built.notices.end(), notice) != built.notices.end());

  // The loaders normalise with it; a [data] mean of the recipe's own still wins.
  write_text(folder / "cub/train.json", R"({"a.jpg": 1})");
  write_text(folder / "cub/test.json", R"({"c.jpg": 1})");
  write_text(folder / "recipe.toml",
             "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[data]\nformat = \"fgvc\"\n"
             "root = \"cub\"\nstd = [0.3, 0.3, 0.3]\n");
  const auto plan = peft::data::plan_data(peft::test::image_data_request(
      *peft::load_recipe(folder / "recipe.toml").data, folder.path(), &built.preprocessing));
  CATCH_CHECK(plan.eval_images.transform.mean == std::array<double, 3>{0.485, 0.456, 0.406});
  CATCH_CHECK(plan.eval_images.transform.std == std::array<double, 3>{0.3, 0.3, 0.3});
  CATCH_CHECK(plan.eval_images.transform.resize_size == 35);  // floor(32 / 0.9)

  // timm's older single-table config.json holds the data keys at the top.
  const fs::path legacy = hub_folder(folder, R"({"architecture": "vit_pico_patch4_32", "interpolation": "bilinear",
                                                "mean": [0.1, 0.2, 0.3]})");
  const peft::BuiltBackbone old = peft::build_backbone(peft::test::builtin_registry(), vit_section(legacy));
  CATCH_CHECK(old.preprocessing.mean == std::array<double, 3>{0.1, 0.2, 0.3});
  CATCH_CHECK(old.preprocessing.interpolation == "bilinear");
  CATCH_CHECK(old.preprocessing.std == own.std);
}

CATCH_TEST_CASE("a hub folder's model_args and input_size fill the options the recipe leaves unset") {
  TempFolder folder;
  const fs::path hub = hub_folder(folder, R"({"architecture": "vit_pico_patch4_32",
      "model_args": {"drop_path_rate": 0.1, "qkv_bias": true, "global_pool": null},
      "pretrained_cfg": {"input_size": [3, 48, 48]}})");
  peft::BackboneSection section = vit_section(hub);
  section.options["qkv_bias"] = false;  // the recipe's own wins
  peft::read_hub_folder(hub, section, vit_entry());
  const std::string config = (hub / "config.json").string();
  CATCH_CHECK(std::get<std::string>(section.options.at("variant")) == "vit_pico_patch4_32");
  CATCH_CHECK(std::get<double>(section.options.at("drop_path")) == 0.1);  // timm's name, the option's alias
  CATCH_CHECK(section.option_contexts.at("drop_path") == config + " (model_args.drop_path_rate)");
  CATCH_CHECK_FALSE(std::get<bool>(section.options.at("qkv_bias")));
  CATCH_CHECK(section.options.count("global_pool") == 0);  // null: timm's default
  CATCH_CHECK(std::get<std::int64_t>(section.options.at("img_size")) == 48);
  CATCH_CHECK(section.option_contexts.at("img_size") == config + " (pretrained_cfg.input_size)");

  // timm 1.0's save_for_hf writes img_size as a pair, whatever the model was made with.
  const fs::path paired = hub_folder(folder, R"({"architecture": "vit_pico_patch4_32",
      "model_args": {"img_size": [40, 40]}})");
  peft::BackboneSection from_pair = vit_section(paired);
  peft::read_hub_folder(paired, from_pair, vit_entry());
  CATCH_CHECK(std::get<std::int64_t>(from_pair.options.at("img_size")) == 40);

  // A model_args value of the wrong type is named where it was written.
  const fs::path typed =
      hub_folder(folder, R"({"architecture": "vit_pico_patch4_32", "model_args": {"depth": "two"}})");
  try {
    peft::build_backbone(peft::test::builtin_registry(), vit_section(typed));
    CATCH_FAIL("a string depth was accepted");
  } catch (const peft::Error& e) {
    CATCH_CHECK_THAT(e.what(), Catch::Contains(config + " (model_args.depth): key 'depth' must be an integer"));
  }
}

CATCH_TEST_CASE("a malformed hub config.json is refused naming the file and the key") {
  TempFolder folder;
  const std::string config = "[recipe] " + (folder / "vit_pico_patch4_32.fashion" / "config.json").string();
  const auto refused = [&](const std::string& json) { return error_of(hub_folder(folder, json)); };
  CATCH_CHECK(refused(R"({"pretrained_cfg": {"mean": [0.5, 0.5]}})") ==
              config + ": pretrained_cfg.mean = [0.5,0.5], expected 3 numbers (one per channel)");
  CATCH_CHECK(refused(R"({"pretrained_cfg": {"std": [0.5, 0, 0.5]}})") ==
              config + ": pretrained_cfg.std = [0.5,0,0.5], expected 3 positive numbers (one per channel)");
  CATCH_CHECK(refused(R"({"pretrained_cfg": {"interpolation": "nearest"}})") ==
              config +
                  ": pretrained_cfg.interpolation = \"nearest\", expected bilinear or bicubic (the resizes peft has)");
  CATCH_CHECK(refused(R"({"pretrained_cfg": {"crop_pct": 1.5}})") ==
              config + ": pretrained_cfg.crop_pct = 1.5, expected a number in (0, 1]");
  CATCH_CHECK(refused(R"({"pretrained_cfg": {"input_size": [3, 32, 48]}})") ==
              config +
                  ": pretrained_cfg.input_size = [3,32,48], expected [channels, height, width] with height = width");
  CATCH_CHECK(refused(R"({"pretrained_cfg": [1]})") == config + ": pretrained_cfg = [1], expected an object");
  CATCH_CHECK(refused(R"({"model_args": {"reg_tokens": 4}})") ==
              config + ": model_args.reg_tokens is not an option of the vit backbone (see peft list --options vit)");
  CATCH_CHECK(refused(R"({"model_args": {"img_size": [32, 48]}})") ==
              config +
                  ": model_args.img_size = [32,48], expected an integer, or a pair of equal integers (a square "
                  "size)");
  CATCH_CHECK(refused(R"({"model_args": {"img_size": {"h": 1}}})") ==
              config + ": model_args.img_size = {\"h\":1}, expected a number, boolean, string or list of them");
  // A config.json nested past any configuration's depth, or a folder in its place.
  CATCH_CHECK(refused("{\"pretrained_cfg\": " + std::string(100000, '[') + std::string(100000, ']') + "}") ==
              config + ": JSON nested deeper than 128 levels");
  const fs::path hub = folder / "vit_pico_patch4_32.fashion";
  fs::remove(hub / "config.json");
  fs::create_directories(hub / "config.json");
  CATCH_CHECK(error_of(hub) == "[recipe] recipe.toml [backbone]: " + (hub / "config.json").string() +
                                   " is not a file (expected timm's config.json)");
}

CATCH_TEST_CASE("a hub folder in Hugging Face's sharded layout loads as its single file does") {
  TempFolder folder;
  const std::string config = R"({"architecture": "vit_pico_patch4_32", "num_classes": 5})";
  const fs::path single = hub_folder(folder, config);
  const fs::path sharded = folder / "sharded";
  fs::create_directories(sharded);
  write_text(sharded / "config.json", config);
  const peft::TensorFile whole = peft::read_safetensors(single / "model.safetensors");
  const std::size_t half = whole.tensors.size() / 2;
  peft::write_safetensors(sharded / "a.safetensors", {whole.tensors.begin(), whole.tensors.begin() + half});
  peft::write_safetensors(sharded / "b.safetensors", {whole.tensors.begin() + half, whole.tensors.end()});
  std::string map;
  for (std::size_t i = 0; i < whole.tensors.size(); ++i) {
    map += (i ? ", \"" : "\"") + whole.tensors[i].first + "\": \"" + (i < half ? "a" : "b") + ".safetensors\"";
  }
  write_text(sharded / "model.safetensors.index.json", "{\"weight_map\": {" + map + "}}");

  const auto& registry = peft::test::builtin_registry();
  const peft::BuiltBackbone one = peft::build_backbone(registry, vit_section(single));
  const peft::BuiltBackbone two = peft::build_backbone(registry, vit_section(sharded));
  CATCH_CHECK(*two.weights == sharded / "model.safetensors.index.json");
  const auto a = one.backbone->named_parameters();
  const auto b = two.backbone->named_parameters();
  CATCH_REQUIRE(a.size() == b.size());
  for (const auto& item : a) CATCH_CHECK(at::equal(item.value(), b[item.key()]));
}
