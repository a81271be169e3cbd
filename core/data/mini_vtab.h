#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace peft::data {

struct MiniVtabOptions {
  /// Where Debian's dataset-fashion-mnist puts the four IDX files.
  std::filesystem::path source = "/usr/share/datasets/fashion-mnist";
  std::filesystem::path out;
  /// Write into an `out` that holds files (replacing those of the same names; nothing else is removed).
  bool overwrite = false;
  std::uint64_t seed = 0;
  /// Pretraining images drawn from the training images of classes 0-4 (all 30,000 by default).
  std::int64_t pretrain_images = 30000;
  /// Test images per downstream task (drawn from the official test images of classes 5-9).
  std::int64_t test_images = 1000;
};

/// One written task: its name and the number of images in each split.
struct MiniVtabTask {
  std::string name;
  std::int64_t num_classes = 0;
  std::vector<std::pair<std::string, std::int64_t>> splits;
};

/// Builds mini-vtab from Fashion-MNIST, deterministically from `seed`, in the NOAH VTAB-1k layout:
/// `<out>/<task>/{train800,val200,train800val200,test}.txt` (lines `images/<split>/<n>.png <label>`), 32×32 grey
/// PNGs under `<task>/images/`, a `dataset.toml` and a `sources.txt` (which Fashion-MNIST images each file was
/// made from). Tasks: `pretrain` (classes 0-4: `train`, `test`), and from the unseen classes 5-9 `novel`,
/// `rotation`, `location`, `count`, `inverted`. Labels are balanced; train800, val200 and test share no source image.
std::vector<MiniVtabTask> build_mini_vtab(const MiniVtabOptions& options);

}  // namespace peft::data
