#include "data/mini_vtab.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "data/dataset.h"
#include "data/idx.h"
#include "data/image_dataset.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "support/image_data.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

std::vector<peft::data::MiniVtabTask> build(const fs::path& out, std::uint64_t seed, std::int64_t test_images) {
  peft::data::MiniVtabOptions options;
  options.out = out;
  options.seed = seed;
  options.pretrain_images = 300;  // small for the tests; the pretraining split is otherwise all 30,000
  options.test_images = test_images;
  return peft::data::build_mini_vtab(options);
}

// One full-size build (1,000 test images a task) shared by the tests that only read it.
struct SharedBuild {
  TempFolder out;
  std::vector<peft::data::MiniVtabTask> tasks = build(out.path(), 3, 1000);
};
const SharedBuild& shared_build() {
  static const SharedBuild shared;
  return shared;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::pair<std::string, std::int64_t>> read_list(const fs::path& file) {
  std::vector<std::pair<std::string, std::int64_t>> entries;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.rfind(' ');
    entries.emplace_back(line.substr(0, space), std::stoll(line.substr(space + 1)));
  }
  return entries;
}

// sources.txt: image path → the Fashion-MNIST images ("train:123") it was made from.
std::map<std::string, std::vector<std::string>> read_sources(const fs::path& task) {
  std::map<std::string, std::vector<std::string>> sources;
  std::ifstream in(task / "sources.txt");
  std::string path, split, indices;
  while (in >> path >> split >> indices) {
    std::stringstream list(indices);
    for (std::string index; std::getline(list, index, ',');) sources[path].push_back(split + ":" + index);
  }
  return sources;
}

const char* const kDownstream[] = {"novel", "rotation", "location", "count", "inverted"};

}  // namespace

CATCH_TEST_CASE("mini-vtab: the same seed gives byte-identical files, another seed other ones") {
  TempFolder first;
  TempFolder second;
  TempFolder other;
  build(first.path(), 7, 100);
  build(second.path(), 7, 100);
  build(other.path(), 8, 100);
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(first.path())) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = fs::relative(entry.path(), first.path());
    CATCH_REQUIRE(fs::exists(second / relative.string()));
    if (read_all(entry.path()) != read_all(second / relative.string())) CATCH_FAIL("differs: " << relative);
    ++files;
  }
  CATCH_CHECK(files == 300 + 5000 + 5 * 1100 + 6 * 2 + 2 + 5 * 4);  // images, toml + sources, lists
  CATCH_CHECK(read_all(first / "novel/train800.txt") != read_all(other / "novel/train800.txt"));
}

CATCH_TEST_CASE("mini-vtab: labels are balanced, splits are the NOAH layout, and no source image is shared") {
  const fs::path out = shared_build().out.path();
  const auto& tasks = shared_build().tasks;
  CATCH_REQUIRE(tasks.size() == 6);
  const at::Tensor train_labels = peft::data::read_idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  const at::Tensor test_labels = peft::data::read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  const auto source_label = [&](const std::string& source) {
    const auto colon = source.find(':');
    const auto& labels = source.substr(0, colon) == "train" ? train_labels : test_labels;
    return labels[std::stoll(source.substr(colon + 1))].item<std::int64_t>();
  };

  std::set<std::string> pretraining_sources;
  for (const auto& [path, sources] : read_sources(out / "pretrain")) {
    for (const auto& source : sources) {
      CATCH_CHECK(source_label(source) <= 4);
      pretraining_sources.insert(source);
    }
  }
  for (const auto* name : kDownstream) {
    CATCH_DYNAMIC_SECTION(name) {
      const fs::path task = out / name;
      const auto sources = read_sources(task);
      const auto train800 = read_list(task / "train800.txt");
      const auto val200 = read_list(task / "val200.txt");
      const auto test = read_list(task / "test.txt");
      CATCH_CHECK(train800.size() == 800);
      CATCH_CHECK(val200.size() == 200);
      CATCH_CHECK(test.size() == 1000);
      CATCH_CHECK(read_list(task / "train800val200.txt").size() == 1000);

      const std::int64_t classes =
          std::find_if(tasks.begin(), tasks.end(), [&](const auto& t) { return t.name == name; })->num_classes;
      for (const auto* list : {&train800, &val200, &test}) {
        std::vector<std::int64_t> counts(static_cast<std::size_t>(classes), 0);
        for (const auto& [path, label] : *list) {
          CATCH_REQUIRE(label >= 0);
          CATCH_REQUIRE(label < classes);
          ++counts[static_cast<std::size_t>(label)];
          CATCH_REQUIRE(fs::exists(task / path));
        }
        CATCH_CHECK(*std::max_element(counts.begin(), counts.end()) - *std::min_element(counts.begin(), counts.end()) <=
                    1);
      }
      std::map<std::string, int> seen;  // source → which split used it
      int split_id = 0;
      for (const auto* list : {&train800, &val200, &test}) {
        ++split_id;
        for (const auto& [path, label] : *list) {
          for (const auto& source : sources.at(path)) {
            CATCH_CHECK(source_label(source) >= 5);  // only unseen classes downstream
            CATCH_CHECK(pretraining_sources.count(source) == 0);
            const auto [it, fresh] = seen.emplace(source, split_id);
            if (!fresh && it->second != split_id) CATCH_FAIL(source << " is in two splits of " << name);
          }
        }
      }
    }
  }
}

CATCH_TEST_CASE("mini-vtab images are 32x32 grey and show their label: the cell, the count, the turn") {
  const fs::path out = shared_build().out.path();
  // The 3×3 cells a picture has ink in.
  const auto occupied_cells = [](const at::Tensor& image) {
    std::set<std::int64_t> cells;
    for (std::int64_t cell = 0; cell < 9; ++cell) {
      const std::int64_t row = 1 + (cell / 3) * 10;
      const std::int64_t column = 1 + (cell % 3) * 10;
      if (image[0].slice(0, row, row + 10).slice(1, column, column + 10).sum().item<std::int64_t>() > 0) {
        cells.insert(cell);
      }
    }
    return cells;
  };
  const auto list = [&](const std::string& task) { return read_list(out / task / "test.txt"); };
  for (const auto& [path, label] : list("location")) {
    const at::Tensor image = peft::data::decode_image(out / "location" / path);
    CATCH_REQUIRE(image.sizes() == at::IntArrayRef({1, 32, 32}));
    CATCH_REQUIRE(occupied_cells(image) == std::set<std::int64_t>{label});
  }
  for (const auto& [path, label] : list("count")) {
    CATCH_REQUIRE(occupied_cells(peft::data::decode_image(out / "count" / path)).size() ==
                  static_cast<std::size_t>(label + 1));
  }
  // rotation and inverted are made from the same kind of padded item: inverted is 255 minus a padded item, so its
  // 2-pixel border is white; the others' borders are black.
  const at::Tensor inverted = peft::data::decode_image(out / "inverted" / list("inverted").front().first);
  CATCH_CHECK(inverted[0][0].min().item<int>() == 255);
  const at::Tensor turned = peft::data::decode_image(out / "rotation" / list("rotation").front().first);
  CATCH_CHECK(turned[0][0].max().item<int>() == 0);
}

CATCH_TEST_CASE("the VTAB-1k reader reads every mini-vtab split with its dataset.toml class count") {
  const fs::path out = shared_build().out.path();
  const auto train = peft::data::read_vtab1k_split(out / "location", "train800");
  CATCH_CHECK(train.samples.size() == 800);
  CATCH_CHECK(train.num_classes == 9);
  CATCH_CHECK(peft::data::read_vtab1k_split(out / "pretrain", "train").samples.size() == 300);
  for (const char* name : kDownstream) {
    for (const char* split : {"train800", "val200", "train800val200", "test"}) {
      for (const auto& sample : peft::data::read_vtab1k_split(out / name, split).samples) {
        CATCH_REQUIRE(fs::exists(sample.image));
      }
    }
  }
}

CATCH_TEST_CASE("the loader reads a mini-vtab task: grey PNGs become normalised three-channel batches") {
  peft::data::LoaderOptions options;
  options.batch_size = 100;
  options.workers = 2;
  peft::data::ImageOptions images_32;
  images_32.transform.image_size = 32;
  peft::data::Loader loader(
      peft::test::image_dataset(peft::data::read_vtab1k_split(shared_build().out.path() / "rotation", "val200"),
                                images_32),
      options);
  loader.start_epoch(0);
  std::int64_t images = 0;
  at::Tensor counts = at::zeros({4}, at::kLong);
  while (auto batch = loader.next()) {
    CATCH_CHECK(batch->at(peft::keys::images).sizes().slice(1) == at::IntArrayRef({3, 32, 32}));
    CATCH_CHECK(batch->at(peft::keys::images).min().item<float>() >= -1.0f);  // (0 - 0.5) / 0.5
    CATCH_CHECK(batch->at(peft::keys::images).max().item<float>() <= 1.0f);
    counts += at::bincount(batch->at(peft::keys::labels), {}, 4);
    images += batch->at(peft::keys::images).size(0);
  }
  CATCH_CHECK(images == 200);
  CATCH_CHECK(at::equal(counts, at::full({4}, 50, at::kLong)));
}

CATCH_TEST_CASE("mini-vtab: more test images than the count task can draw is one error, before writing anything") {
  // Fashion-MNIST has 5,000 test images of classes 5-9; count images hold 1-4 of them (2.5 on average).
  TempFolder folder;
  CATCH_CHECK_THROWS_WITH(build(folder / "out", 0, 1000000000),
                          "[mini-vtab] test_images = 1000000000, expected at most 2000 (the count task uses 1-4 of "
                          "the unseen classes' test images an image)");
  CATCH_CHECK_FALSE(fs::exists(folder / "out"));
}
