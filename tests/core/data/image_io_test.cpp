#include "data/image_io.h"

#include <ATen/ATen.h>
#include <stb_image_write.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

void append_chunk(std::string& png, const std::string& type, const std::string& data) {
  for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((data.size() >> shift) & 0xff));
  const std::string body = type + data;
  png += body;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((crc >> shift) & 0xff));
}

// A 2×2 palette PNG (colour type 3) whose pixels are palette entries 0, 1 / 2, 0; stb cannot write one.
void write_palette_png(const fs::path& file) {
  std::string png = "\x89PNG\r\n\x1a\n";
  append_chunk(png, "IHDR", std::string("\0\0\0\x02\0\0\0\x02\x08\x03\0\0\0", 13));
  append_chunk(png, "PLTE", std::string("\xff\0\0\0\xff\0\0\0\xff", 9));  // red, green, blue
  const std::string rows("\0\x00\x01\0\x02\x00", 6);                      // filter byte, then indices, per row
  uLongf packed_size = compressBound(rows.size());
  std::string packed(packed_size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(rows.data()),
           rows.size());
  packed.resize(packed_size);
  append_chunk(png, "IDAT", packed);
  append_chunk(png, "IEND", "");
  std::ofstream(file, std::ios::binary) << png;
}

at::Tensor ramp(std::int64_t channels) {
  return at::arange(channels * 4 * 5, at::kInt).remainder(256).to(at::kByte).reshape({channels, 4, 5});
}

}  // namespace

CATCH_TEST_CASE("grey and RGB PNGs round-trip exactly, also under a path with a space") {
  TempFolder folder;
  for (const std::int64_t channels : {1, 3}) {
    const fs::path file = folder / ("with space " + std::to_string(channels) + ".png");
    peft::data::write_png(file, ramp(channels));
    const at::Tensor decoded = peft::data::decode_image(file);
    CATCH_CHECK(decoded.sizes() == at::IntArrayRef({channels, 4, 5}));
    CATCH_CHECK(at::equal(decoded, ramp(channels)));
  }
}

CATCH_TEST_CASE("RGBA drops alpha, palettes expand to RGB, grey+alpha stays grey") {
  TempFolder folder;
  const at::Tensor rgba = ramp(4).permute({1, 2, 0}).contiguous();
  stbi_write_png((folder / "rgba.png").c_str(), 5, 4, 4, rgba.data_ptr(), 5 * 4);
  CATCH_CHECK(at::equal(peft::data::decode_image(folder / "rgba.png"), ramp(4).slice(0, 0, 3)));

  const at::Tensor grey_alpha = ramp(2).permute({1, 2, 0}).contiguous();
  stbi_write_png((folder / "ga.png").c_str(), 5, 4, 2, grey_alpha.data_ptr(), 5 * 2);
  CATCH_CHECK(at::equal(peft::data::decode_image(folder / "ga.png"), ramp(2).slice(0, 0, 1)));

  write_palette_png(folder / "palette.png");
  const at::Tensor palette = peft::data::decode_image(folder / "palette.png");
  CATCH_REQUIRE(palette.sizes() == at::IntArrayRef({3, 2, 2}));
  CATCH_CHECK(palette.index({at::indexing::Slice(), 0, 0}).equal(at::tensor({255, 0, 0}, at::kByte)));  // red
  CATCH_CHECK(palette.index({at::indexing::Slice(), 0, 1}).equal(at::tensor({0, 255, 0}, at::kByte)));  // green
  CATCH_CHECK(palette.index({at::indexing::Slice(), 1, 0}).equal(at::tensor({0, 0, 255}, at::kByte)));  // blue
}

CATCH_TEST_CASE("JPEGs decode to RGB close to what was encoded") {
  TempFolder folder;
  const at::Tensor flat = at::full({16, 16, 3}, 120, at::kByte);
  stbi_write_jpg((folder / "flat.jpg").c_str(), 16, 16, 3, flat.data_ptr(), 100);
  const at::Tensor decoded = peft::data::decode_image(folder / "flat.jpg");
  CATCH_REQUIRE(decoded.sizes() == at::IntArrayRef({3, 16, 16}));
  CATCH_CHECK((decoded.to(at::kInt) - 120).abs().max().item<int>() <= 2);
}

CATCH_TEST_CASE("missing and corrupt images are errors naming the file") {
  TempFolder folder;
  CATCH_CHECK_THROWS_WITH(peft::data::decode_image(folder / "gone.png"), Catch::EndsWith("gone.png: no such file"));
  peft::test::write_text(folder / "notes.png", "not an image");
  CATCH_CHECK_THROWS_WITH(peft::data::decode_image(folder / "notes.png"),
                          Catch::Contains("notes.png: cannot decode") && Catch::Contains("expected PNG or JPEG"));
  peft::data::write_png(folder / "cut.png", ramp(3));
  fs::resize_file(folder / "cut.png", fs::file_size(folder / "cut.png") / 2);
  CATCH_CHECK_THROWS_WITH(peft::data::decode_image(folder / "cut.png"), Catch::Contains("cut.png: cannot decode"));
}
