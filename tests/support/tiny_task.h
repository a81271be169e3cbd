#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace peft::test {

/// A tiny VTAB-1k-layout task for end-to-end runs: 8×8 RGB PNGs of 3 classes (a bright quadrant per class over
/// noise, so that a few epochs learn it): `train800.txt` with `train_images`, `val200.txt` and `test.txt` with
/// `test_images` each, `train800val200.txt` (both lists), and a dataset.toml saying 3 classes. Deterministic.
void write_tiny_task(const std::filesystem::path& task, std::int64_t train_images = 48, std::int64_t test_images = 24);

/// A recipe (TOML text) training `method` on the tiny task with a tiny ViT (vit_pico at 8×8), one thread.
/// `train_extra` ends [train] (3 epochs and lr = 0.01 unless it sets them); `method_extra` ends [method].
std::string tiny_recipe(const std::filesystem::path& task, const std::string& method,
                        const std::string& train_extra = "", const std::string& method_extra = "");

}  // namespace peft::test
