#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace peft::data {

/// Decodes a PNG or JPEG (grey, grey+alpha, RGB, RGBA, palette) into a uint8 tensor [C, H, W] with C = 1 for grey
/// images and 3 otherwise; alpha is dropped and palettes are expanded. A missing, unreadable or corrupt file is a
/// peft::Error naming it.
at::Tensor decode_image(const std::filesystem::path& file);

/// Writes a uint8 tensor [C, H, W] (C = 1 or 3) as a PNG, atomically (temporary file, then rename), creating its
/// folder.
void write_png(const std::filesystem::path& file, const at::Tensor& image);

}  // namespace peft::data
