#include "data/dataset.h"

#include <catch2/catch.hpp>

#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;
using peft::test::write_text;

CATCH_TEST_CASE("VTAB-1k lists split on the last space, so image paths may contain spaces") {
  TempFolder root;
  const fs::path task = root / "my task";
  write_text(task / "train800.txt", "images/train800/a b.jpg 3\r\nimages/train800/c.jpg 0\n\n");
  const auto split = peft::data::read_vtab1k_split(task, "train800", 4);
  CATCH_REQUIRE(split.samples.size() == 2);
  CATCH_CHECK(split.samples[0].image == task / "images/train800/a b.jpg");
  CATCH_CHECK(split.samples[0].label == 3);
  CATCH_CHECK(split.samples[0].origin == (task / "train800.txt").string() + ":1");
  CATCH_CHECK(split.samples[1].label == 0);
  CATCH_CHECK(split.num_classes == 4);
}

CATCH_TEST_CASE("VTAB-1k class counts come from the caller, the task's dataset.toml, the known task name, or the labels") {
  TempFolder root;
  write_text(root / "cifar/test.txt", "x.jpg 99\n");
  CATCH_CHECK(peft::data::read_vtab1k_split(root / "cifar", "test").num_classes == 100);
  write_text(root / "mine/test.txt", "x.png 2\n");
  write_text(root / "mine/dataset.toml", "name = \"mine\"\nnum_classes = 3\n");
  CATCH_CHECK(peft::data::read_vtab1k_split(root / "mine", "test").num_classes == 3);
  // Nothing says it: the labels do (largest + 1), as torchvision's ImageFolder infers its classes.
  write_text(root / "unknown/test.txt", "x.png 2\ny.png 9\nz.png 0\n");
  const auto inferred = peft::data::read_vtab1k_split(root / "unknown", "test");
  CATCH_CHECK(inferred.num_classes == 10);
  CATCH_CHECK(inferred.num_classes_inferred);
  CATCH_CHECK_FALSE(peft::data::read_vtab1k_split(root / "mine", "test").num_classes_inferred);
  write_text(root / "negative/test.txt", "x.png -1\n");
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(root / "negative", "test"),
                          Catch::EndsWith("test.txt:1: label -1 is negative"));
  CATCH_CHECK(peft::data::vtab1k_num_classes("sun397") == 397);
}

CATCH_TEST_CASE("VTAB-1k list errors name the file and line") {
  TempFolder root;
  const fs::path task = root / "dtd";
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(task, "train800"),
                          Catch::Contains("dtd/train800.txt does not exist"));
  write_text(task / "nolabel.txt", "a.jpg 1\nb.jpg\n");
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(task, "nolabel"),
                          Catch::EndsWith("nolabel.txt:2: expected '<image path> <integer label>', got 'b.jpg'"));
  write_text(task / "range.txt", "a.jpg 1\nb.jpg 47\n");
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(task, "range"),
                          Catch::EndsWith("range.txt:2: label 47 outside [0, 47)"));
  write_text(task / "negative.txt", "a.jpg -1\n");
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(task, "negative"), Catch::Contains("label -1 outside"));
  write_text(task / "empty.txt", "\n");
  CATCH_CHECK_THROWS_WITH(peft::data::read_vtab1k_split(task, "empty"), Catch::EndsWith("empty.txt lists no images"));
  // Found by the fuzzer: labels std::stoll could not take (too long, a lone '-', trailing junk) escaped as
  // std::out_of_range / std::invalid_argument instead of this one-line error.
  for (const char* label : {"4000000000000000004444444443", "-", "1-2"}) {
    write_text(task / "odd.txt", std::string("a.jpg ") + label + "\n");
    CATCH_CHECK_THROWS_WITH(
        peft::data::read_vtab1k_split(task, "odd"),
        Catch::EndsWith("odd.txt:1: expected '<image path> <integer label>', got 'a.jpg " + std::string(label) + "'"));
  }
}

CATCH_TEST_CASE("FGVC labels map to contiguous ids sorted as the training split's values") {
  TempFolder root;
  write_text(root / "train.json", R"({"001.Bird/a.jpg": "20", "002.Bird/b.jpg": "132", "003.Bird/c.jpg": "20"})");
  write_text(root / "test.json", R"({"002.Bird/d.jpg": "132"})");
  fs::create_directories(root / "images");
  const auto train = peft::data::read_fgvc_split(root.path(), "train");
  CATCH_CHECK(train.num_classes == 2);
  CATCH_CHECK(train.class_names == std::vector<std::string>{"132", "20"});  // strings sort as strings
  const auto test = peft::data::read_fgvc_split(root.path(), "test");
  CATCH_REQUIRE(test.samples.size() == 1);
  CATCH_CHECK(test.samples[0].label == 0);
  CATCH_CHECK(test.samples[0].image == root / "images/002.Bird/d.jpg");  // CUB-style images/ root found

  TempFolder numeric;
  write_text(numeric / "train.json", R"({"a.jpg": 20, "b.jpg": 132, "c.jpg": 3})");
  const auto ints = peft::data::read_fgvc_split(numeric.path(), "train");
  CATCH_CHECK(ints.class_names == std::vector<std::string>{"3", "20", "132"});  // integers sort as numbers
  CATCH_CHECK(ints.samples[0].image == numeric / "a.jpg");                      // no images/ folder: the root
  CATCH_CHECK(ints.samples[0].label == 1);
}

CATCH_TEST_CASE("FGVC errors name the file") {
  TempFolder root;
  CATCH_CHECK_THROWS_WITH(peft::data::read_fgvc_split(root.path(), "train"),
                          Catch::Contains("train.json does not exist"));
  write_text(root / "train.json", R"(["a.jpg", 1])");
  CATCH_CHECK_THROWS_WITH(peft::data::read_fgvc_split(root.path(), "train"), Catch::Contains("is not a JSON object"));
  write_text(root / "train.json", R"({"a.jpg": 1.5})");
  CATCH_CHECK_THROWS_WITH(peft::data::read_fgvc_split(root.path(), "train"),
                          Catch::Contains("label of 'a.jpg' is 1.5, expected a string or an integer"));
  write_text(root / "train.json", R"({"a.jpg": 1})");
  write_text(root / "val.json", R"({"b.jpg": 7})");
  CATCH_CHECK_THROWS_WITH(peft::data::read_fgvc_split(root.path(), "val"),
                          Catch::Contains("label 7 of 'b.jpg' does not occur in train.json"));
  write_text(root / "test.json", "{}");
  CATCH_CHECK_THROWS_WITH(peft::data::read_fgvc_split(root.path(), "test"), Catch::Contains("lists no images"));
}

CATCH_TEST_CASE("ImageFolder classes are the sorted folder names and only images count") {
  TempFolder root;
  write_text(root / "train/zebra/1.JPG", "x");
  write_text(root / "train/ant/2.png", "x");
  write_text(root / "train/ant/1.jpeg", "x");
  write_text(root / "train/ant/notes.txt", "x");
  const auto split = peft::data::read_image_folder(root.path(), "train");
  CATCH_CHECK(split.class_names == std::vector<std::string>{"ant", "zebra"});
  CATCH_REQUIRE(split.samples.size() == 3);
  CATCH_CHECK(split.samples[0].image == root / "train/ant/1.jpeg");
  CATCH_CHECK(split.samples[2].label == 1);
  CATCH_CHECK_THROWS_WITH(peft::data::read_image_folder(root.path(), "val"), Catch::Contains("is not a folder"));
}
