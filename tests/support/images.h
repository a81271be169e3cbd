#pragma once

#include <filesystem>

namespace peft::test {

/// A 2×2 palette PNG (colour type 3) whose pixels are palette entries red, green / blue, red. stb cannot write
/// palette PNGs, so this one is assembled chunk by chunk.
void write_palette_png(const std::filesystem::path& file);

/// A 16×16 RGB JPEG of one grey level (120), at quality 100.
void write_flat_jpeg(const std::filesystem::path& file);

}  // namespace peft::test
