#include "data/loader.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <thread>

#include "data/dataset.h"
#include "data/image_io.h"
#include "data/worker_threads.h"
#include "peft/error.h"
#include "support/image_data.h"
#include "support/images.h"
#include "support/temp_folder.h"
#include "support/thread_count.h"

namespace fs = std::filesystem;
using peft::data::ImageOptions;
using peft::data::Loader;
using peft::data::LoaderOptions;
using peft::test::image_dataset;
using peft::test::TempFolder;

namespace {

// `count` 6×6 grey images; image i is a ramp starting at 10·i, so batches show which images they hold.
peft::data::Split make_split(const TempFolder& folder, int count) {
  peft::data::Split split;
  split.num_classes = 3;
  for (int i = 0; i < count; ++i) {
    const fs::path file = folder / ("image " + std::to_string(i) + ".png");
    peft::data::write_png(file, (at::arange(36, at::kInt) + 10 * i).clamp(0, 255).to(at::kByte).view({1, 6, 6}));
    split.samples.push_back({file, i % 3, "test"});
  }
  return split;
}

LoaderOptions options_with(int workers) {
  LoaderOptions options;
  options.batch_size = 4;
  options.workers = workers;
  options.seed = 11;
  return options;
}

// Random crops and flips, so that batches show their augmentation.
ImageOptions augmented() {
  ImageOptions options;
  options.seed = 11;
  options.transform.image_size = 4;
  options.transform.resize = "shorter";
  options.transform.resize_size = 6;
  options.transform.crop = "random";
  options.transform.flip = true;
  return options;
}

std::vector<at::Tensor> epoch_of(Loader& loader, std::int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<at::Tensor> parts;
  while (auto batch = loader.next()) {
    parts.push_back(batch->at(peft::keys::images));
    parts.push_back(batch->at(peft::keys::labels).to(at::kFloat));
  }
  return parts;
}

bool same(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!at::equal(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

CATCH_TEST_CASE("the loader gives the same batches for a seed, whatever the number of workers") {
  TempFolder folder;
  const auto split = make_split(folder, 10);
  Loader inline_loader(image_dataset(split, augmented()), options_with(0));
  Loader threaded(image_dataset(split, augmented()), options_with(2));
  Loader again(image_dataset(split, augmented()), options_with(3));
  const auto reference = epoch_of(inline_loader, 0);
  CATCH_CHECK(same(reference, epoch_of(threaded, 0)));
  CATCH_CHECK(same(reference, epoch_of(again, 0)));
  CATCH_CHECK_FALSE(same(reference, epoch_of(threaded, 1)));  // another epoch, another order and augmentation
  CATCH_CHECK(same(reference, epoch_of(threaded, 0)));        // and back
}

CATCH_TEST_CASE("an epoch holds every sample once, in batches of batch_size") {
  TempFolder folder;
  const auto split = make_split(folder, 10);
  LoaderOptions options = options_with(2);
  ImageOptions plain;
  plain.transform.image_size = 6;
  plain.transform.mean = {0, 0, 0};
  plain.transform.std = {1, 1, 1};
  Loader loader(image_dataset(split, plain), options);
  CATCH_CHECK(loader.batches_per_epoch() == 3);
  loader.start_epoch(0);
  std::vector<std::int64_t> sizes;
  std::multiset<int> firsts;  // each image's first pixel identifies it: 10·i
  while (auto batch = loader.next()) {
    sizes.push_back(batch->at(peft::keys::images).size(0));
    CATCH_CHECK(batch->at(peft::keys::images).sizes().slice(1) == at::IntArrayRef({3, 6, 6}));
    for (std::int64_t b = 0; b < batch->at(peft::keys::images).size(0); ++b) {
      const int first = static_cast<int>(std::lround(batch->at(peft::keys::images)[b][0][0][0].item<float>() * 255));
      firsts.insert(first);
      CATCH_CHECK(batch->at(peft::keys::labels)[b].item<std::int64_t>() == (first / 10) % 3);
    }
  }
  CATCH_CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
  CATCH_CHECK(firsts == std::multiset<int>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});

  options.drop_last = true;
  Loader dropping(image_dataset(split, plain), options);
  CATCH_CHECK(dropping.batches_per_epoch() == 2);
}

CATCH_TEST_CASE("a bad image stops the loader with its path, or is skipped and counted") {
  TempFolder folder;
  auto split = make_split(folder, 6);
  peft::test::write_text(split.samples[3].image, "corrupt");
  const LoaderOptions options = options_with(2);
  ImageOptions images = augmented();
  {
    Loader loader(image_dataset(split, images), options);
    loader.start_epoch(0);
    CATCH_CHECK_THROWS_WITH(
        [&] {
          while (loader.next()) {
          }
        }(),
        Catch::Contains("image 3.png: cannot decode"));
  }
  images.on_bad_image = "skip";
  images.cache = true;
  Loader loader(image_dataset(split, images), options);
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.start_epoch(epoch);
    std::int64_t seen = 0;
    while (auto batch = loader.next()) seen += batch->at(peft::keys::images).size(0);
    CATCH_CHECK(seen == 5);
  }
  CATCH_CHECK(loader.skipped() == 2);
  images.on_bad_image = "ignore";
  CATCH_CHECK_THROWS_WITH(image_dataset(split, images), Catch::Contains("expected error or skip"));
}

CATCH_TEST_CASE("a NOAH-layout VTAB-1k folder with a spaced path, a palette PNG, a JPEG and a corrupt file loads") {
  TempFolder root;
  const fs::path task = root / "caltech101";
  peft::data::write_png(task / "images/train800/with space.png", at::full({1, 5, 7}, 200, at::kByte));
  peft::test::write_palette_png(task / "images/train800/palette.png");
  peft::test::write_flat_jpeg(task / "images/train800/photo.jpg");
  peft::test::write_text(task / "images/train800/broken.jpg", "not a jpeg");
  peft::test::write_text(task / "train800.txt",
                         "images/train800/with space.png 101\nimages/train800/palette.png 0\n"
                         "images/train800/photo.jpg 5\nimages/train800/broken.jpg 7\n");
  LoaderOptions options;
  options.batch_size = 8;
  options.workers = 2;
  options.shuffle = false;
  ImageOptions images;
  images.on_bad_image = "skip";
  images.transform.image_size = 8;
  const auto dataset = image_dataset(peft::data::read_vtab1k_split(task, "train800"), images);
  Loader loader(dataset, options);
  CATCH_CHECK(dataset->split().num_classes == 102);  // the known VTAB-1k task
  loader.start_epoch(0);
  const auto batch = loader.next();
  CATCH_REQUIRE(batch.has_value());
  CATCH_CHECK(batch->at(peft::keys::images).sizes() == at::IntArrayRef({3, 3, 8, 8}));
  CATCH_CHECK(at::equal(batch->at(peft::keys::labels), at::tensor({101, 0, 5}, at::kLong)));
  CATCH_CHECK(loader.skipped() == 1);
  CATCH_CHECK_FALSE(loader.next().has_value());
}

CATCH_TEST_CASE("a loader worker's tensor work runs on one thread, and the training threads keep their count") {
  const peft::test::ThreadCount count(2);
  int in_worker = 0;
  int in_other_thread = 0;
  std::thread([&] {
    peft::data::use_one_thread_here();
    in_worker = at::get_num_threads();
  }).join();
  std::thread([&] { in_other_thread = at::get_num_threads(); }).join();
  CATCH_CHECK(in_worker == 1);
  CATCH_CHECK(in_other_thread == 2);
  CATCH_CHECK(at::get_num_threads() == 2);
}

CATCH_TEST_CASE("sharded loaders make disjoint parts of each batch, which together are the unsharded batch") {
  TempFolder folder;
  const auto split = make_split(folder, 9);  // batches of 4, 4, 1: three shards of the last leave two empty
  Loader whole(image_dataset(split, augmented()), options_with(0));
  std::vector<std::unique_ptr<Loader>> shards;
  for (int shard = 0; shard < 3; ++shard) {
    LoaderOptions options = options_with(shard == 1 ? 2 : 0);
    options.shard = shard;
    options.shards = 3;
    shards.push_back(std::make_unique<Loader>(image_dataset(split, augmented()), options));
    CATCH_CHECK(shards.back()->batches_per_epoch() == whole.batches_per_epoch());
  }
  whole.start_epoch(1);
  for (auto& shard : shards) shard->start_epoch(1);
  std::vector<std::int64_t> last_sizes;
  while (auto batch = whole.next()) {
    std::vector<at::Tensor> images;
    std::vector<at::Tensor> labels;
    last_sizes.clear();
    for (auto& shard : shards) {
      const auto part = shard->next();
      CATCH_REQUIRE(part.has_value());
      last_sizes.push_back(part->size());
      if (part->size() == 0) continue;
      images.push_back(part->at(peft::keys::images));
      labels.push_back(part->at(peft::keys::labels));
    }
    // The same images, augmented alike, in the same order.
    CATCH_CHECK(at::equal(at::cat(images), batch->at(peft::keys::images)));
    CATCH_CHECK(at::equal(at::cat(labels), batch->at(peft::keys::labels)));
  }
  CATCH_CHECK(last_sizes == std::vector<std::int64_t>{0, 0, 1});
  for (auto& shard : shards) CATCH_CHECK_FALSE(shard->next().has_value());
}

CATCH_TEST_CASE("micro-batches are contiguous parts of each batch (of a rank's share of it), in order") {
  TempFolder folder;
  const auto split = make_split(folder, 9);  // batches of 4, 4, 1
  Loader whole(image_dataset(split, augmented()), options_with(0));
  LoaderOptions options = options_with(2);
  options.micro_batches = 3;
  Loader cut(image_dataset(split, augmented()), options);
  // Rank 1 of 2 takes the second half of each batch (2, 2, 1 images) and cuts it into up to three parts.
  options.shard = 1;
  options.shards = 2;
  Loader share(image_dataset(split, augmented()), options);
  whole.start_epoch(1);
  cut.start_epoch(1);
  share.start_epoch(1);
  std::vector<std::vector<std::int64_t>> cut_sizes;
  std::vector<std::vector<std::int64_t>> share_sizes;
  const auto sizes = [](const std::vector<peft::Batch>& parts) {
    std::vector<std::int64_t> out;
    for (const auto& part : parts) out.push_back(part.size());
    return out;
  };
  while (auto batch = whole.next()) {
    const auto parts = cut.next_parts();
    const auto mine = share.next_parts();
    CATCH_REQUIRE(parts.has_value());
    CATCH_REQUIRE(mine.has_value());
    cut_sizes.push_back(sizes(*parts));
    share_sizes.push_back(sizes(*mine));
    std::vector<at::Tensor> images;
    for (const auto& part : *parts) images.push_back(part.at(peft::keys::images));
    CATCH_CHECK(at::equal(at::cat(images), batch->at(peft::keys::images)));
    std::vector<at::Tensor> second_half;
    for (const auto& part : *mine) second_half.push_back(part.at(peft::keys::images));
    const at::Tensor all = batch->at(peft::keys::images);
    CATCH_CHECK(at::equal(at::cat(second_half), all.narrow(0, all.size(0) / 2, all.size(0) - all.size(0) / 2)));
  }
  // A part with no example is left out, not made empty.
  CATCH_CHECK(cut_sizes == std::vector<std::vector<std::int64_t>>{{1, 1, 2}, {1, 1, 2}, {1}});
  CATCH_CHECK(share_sizes == std::vector<std::vector<std::int64_t>>{{1, 1}, {1, 1}, {1}});
  CATCH_CHECK_FALSE(cut.next_parts().has_value());
  CATCH_CHECK_THROWS_AS(cut.next(), peft::Error);
}
