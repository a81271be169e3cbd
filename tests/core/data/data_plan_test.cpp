#include "data/data_plan.h"

#include "peft/backbone.h"

#include <catch2/catch.hpp>

#include "peft/error.h"
#include "recipe.h"
#include "support/image_data.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

peft::Preprocessing vit_defaults() {
  peft::Preprocessing defaults;
  defaults.image_size = 32;
  defaults.mean = {0.1, 0.2, 0.3};
  defaults.std = {0.4, 0.5, 0.6};
  defaults.interpolation = "bicubic";
  return defaults;
}

// Writes recipe.toml with `data` as its [data] table (plus a backbone) into `folder`, returns its [data] table.
peft::RecipeTable data_table(const TempFolder& folder, const std::string& data) {
  write_text(folder / "recipe.toml", "schema_version = 1\n[backbone]\nplugin = \"vit\"\n[data]\n" + data);
  return *peft::load_recipe(folder / "recipe.toml").data;
}

std::string error_of(const TempFolder& folder, const std::string& data) {
  try {
    const peft::Preprocessing defaults = vit_defaults();
    peft::data::plan_data(peft::test::image_data_request(data_table(folder, data), folder.path(), &defaults));
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a vtab1k [data] table follows the VTAB protocol with the backbone's size and normalisation") {
  TempFolder folder;
  write_text(folder / "tasks/dtd/train800val200.txt", "a.png 1\nb.png 2\n");
  write_text(folder / "tasks/dtd/test.txt", "c.png 3\n");
  const peft::Preprocessing defaults = vit_defaults();
  const peft::RecipeTable table = data_table(folder, "format = \"vtab1k\"\nroot = \"tasks/dtd\"\n");
  const auto plan = peft::data::plan_data(peft::test::image_data_request(table, folder.path(), &defaults, 7));
  CATCH_CHECK(plan.train.samples.size() == 2);
  CATCH_CHECK(plan.eval.samples.size() == 1);
  CATCH_CHECK(plan.train.num_classes == 47);
  const auto loaders = peft::data::read_data_table(table, peft::data::image_data_option_specs(), folder.path(), 7);
  const peft::data::LoaderOptions train_loader = peft::data::train_loader_options(loaders, 16, 7);
  CATCH_CHECK(train_loader.batch_size == 16);
  CATCH_CHECK(train_loader.seed == 7);
  CATCH_CHECK(train_loader.shuffle);
  CATCH_CHECK(train_loader.workers == 2);
  CATCH_CHECK_FALSE(peft::data::eval_loader_options(loaders, 16, 7).shuffle);
  const auto& train = plan.train_images;
  CATCH_CHECK(train.seed == 7);
  CATCH_CHECK(train.transform.image_size == 32);
  CATCH_CHECK(train.transform.resize == "direct");
  CATCH_CHECK(train.transform.interpolation == "bilinear");
  CATCH_CHECK(train.transform.crop == "none");
  CATCH_CHECK_FALSE(train.transform.flip);
  CATCH_CHECK(train.transform.mean == std::array<double, 3>{0.1, 0.2, 0.3});
  CATCH_CHECK(plan.eval_images.transform.crop == "none");
}

CATCH_TEST_CASE("fgvc defaults to resize 256 / random crop and flip for training, centre crop for evaluation") {
  TempFolder folder;
  write_text(folder / "cub/train.json", R"({"a.jpg": 1, "b.jpg": 2})");
  write_text(folder / "cub/test.json", R"({"c.jpg": 2})");
  const peft::Preprocessing defaults = vit_defaults();
  const auto plan = peft::data::plan_data(peft::test::image_data_request(
      data_table(folder, "format = \"fgvc\"\nroot = \"cub\"\nimage_size = 224\nmean = [0.5, 0.5, 0.5]\n"),
      folder.path(), &defaults));
  CATCH_CHECK(plan.train.num_classes == 2);
  CATCH_CHECK(plan.train_images.transform.resize == "shorter");
  CATCH_CHECK(plan.train_images.transform.resize_size == 256);
  CATCH_CHECK(plan.train_images.transform.crop == "random");
  CATCH_CHECK(plan.train_images.transform.flip);
  CATCH_CHECK(plan.train_images.transform.interpolation == "bicubic");  // the backbone's
  CATCH_CHECK(plan.train_images.transform.mean == std::array<double, 3>{0.5, 0.5, 0.5});
  CATCH_CHECK(plan.train_images.transform.std == std::array<double, 3>{0.4, 0.5, 0.6});
  CATCH_CHECK(plan.eval_images.transform.crop == "center");
}

CATCH_TEST_CASE("the shorter-side resize follows the backbone's crop_pct as timm's eval transform does") {
  TempFolder folder;
  write_text(folder / "cub/train.json", R"({"a.jpg": 1})");
  write_text(folder / "cub/test.json", R"({"c.jpg": 1})");
  peft::Preprocessing defaults = vit_defaults();
  defaults.crop_pct = 0.9;
  const auto size_for = [&](const std::string& extra) {
    return peft::data::plan_data(
               peft::test::image_data_request(data_table(folder, "format = \"fgvc\"\nroot = \"cub\"\n" + extra),
                                              folder.path(), &defaults))
        .eval_images.transform.resize_size;
  };
  CATCH_CHECK(size_for("image_size = 224\n") == 248);  // floor(224 / 0.9), timm's scale_size
  CATCH_CHECK(size_for("") == 35);                     // floor(32 / 0.9): floor, not rounding (35.6)
  CATCH_CHECK(size_for("resize_size = 40\n") == 40);   // the recipe's own wins
}

CATCH_TEST_CASE("[data] errors name the recipe, the line and the key") {
  TempFolder folder;
  fs::create_directories(folder / "d");
  const std::string file = (folder / "recipe.toml").string();
  CATCH_CHECK_THAT(error_of(folder, "format = \"vtab1k\"\nroot = \"d\"\nimage_sise = 3\n"),
                   Catch::StartsWith("[options] " + file + ":7 [data]: unknown key 'image_sise', expected one of:"));
  CATCH_CHECK(error_of(folder, "root = \"d\"\n") ==
              "[data] " + file + " [data]: format is missing, expected vtab1k, fgvc or imagefolder");
  CATCH_CHECK(error_of(folder, "format = \"coco\"\nroot = \"d\"\n") ==
              "[data] " + file + ":5 [data]: format = 'coco', expected vtab1k, fgvc or imagefolder");
  CATCH_CHECK_THAT(error_of(folder, "format = \"vtab1k\"\nroot = \"nowhere\"\n"),
                   Catch::Contains(":6 [data]: root = ") && Catch::EndsWith("nowhere is not a folder"));
  write_text(folder / "d/train800val200.txt", "a.png 1\n");
  write_text(folder / "d/test.txt", "a.png 1\n");
  CATCH_CHECK(error_of(folder, "format = \"vtab1k\"\nroot = \"d\"\nnum_classes = 2\nmean = [0.5, 0.5]\n") ==
              "[data] " + file + ":8 [data]: mean must have 3 values (one per channel), got 2");
  CATCH_CHECK(error_of(folder, "format = \"vtab1k\"\nroot = \"d\"\nnum_classes = 2\non_bad_image = \"ignore\"\n") ==
              "[data] " + file + ":8 [data]: on_bad_image = 'ignore', expected error or skip");
  CATCH_CHECK(error_of(folder, "format = \"vtab1k\"\nroot = \"d\"\nnum_classes = 2\neval_crop = \"random\"\n") ==
              "[data] " + file + ":8 [data]: eval_crop cannot be random (evaluation is fixed)");
  CATCH_CHECK_THAT(error_of(folder, "format = \"vtab1k\"\nroot = \"d\"\nnum_classes = 2\ninterpolation = \"area\"\n"),
                   Catch::Contains("data.interpolation must be bilinear or bicubic"));
}

CATCH_TEST_CASE("a task nothing names gets its class count from the training labels, with a note; eval is held to it") {
  TempFolder folder;
  write_text(folder / "mine/train800val200.txt", "a.png 0\nb.png 9\n");
  write_text(folder / "mine/test.txt", "c.png 3\n");
  const peft::Preprocessing defaults = vit_defaults();
  const auto plan = peft::data::plan_data(peft::test::image_data_request(
      data_table(folder, "format = \"vtab1k\"\nroot = \"mine\"\n"), folder.path(), &defaults));
  CATCH_CHECK(plan.train.num_classes == 10);
  CATCH_CHECK(plan.eval.num_classes == 10);
  CATCH_REQUIRE(plan.notices.size() == 1);
  CATCH_CHECK_THAT(plan.notices[0], Catch::StartsWith("10 classes, taken from the labels of ") &&
                                        Catch::Contains("set data.num_classes"));
  write_text(folder / "mine/test.txt", "c.png 10\n");
  CATCH_CHECK_THAT(error_of(folder, "format = \"vtab1k\"\nroot = \"mine\"\n"),
                   Catch::EndsWith("test.txt:1: label 10 outside [0, 10)"));
}
