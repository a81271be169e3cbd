#include "data/image_io.h"

#include <ATen/ATen.h>
#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "peft/error.h"
#include "support/images.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

// An input the image fuzz target found, kept in its seed corpus.
fs::path fuzz_finding(const std::string& name) {
  return fs::path(PEFT_REFERENCE_FIXTURE_DIR) / ".." / ".." / "fuzz" / "corpus" / "image" / name;
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

  peft::test::write_palette_png(folder / "palette.png");
  const at::Tensor palette = peft::data::decode_image(folder / "palette.png");
  CATCH_REQUIRE(palette.sizes() == at::IntArrayRef({3, 2, 2}));
  CATCH_CHECK(palette.index({at::indexing::Slice(), 0, 0}).equal(at::tensor({255, 0, 0}, at::kByte)));  // red
  CATCH_CHECK(palette.index({at::indexing::Slice(), 0, 1}).equal(at::tensor({0, 255, 0}, at::kByte)));  // green
  CATCH_CHECK(palette.index({at::indexing::Slice(), 1, 0}).equal(at::tensor({0, 0, 255}, at::kByte)));  // blue
}

CATCH_TEST_CASE("JPEGs decode to RGB close to what was encoded") {
  TempFolder folder;
  peft::test::write_flat_jpeg(folder / "flat.jpg");
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

CATCH_TEST_CASE("an image header claiming huge dimensions is refused before decoding") {
  TempFolder folder;
  // A PNG signature and an IHDR chunk for 15000 x 15000 RGB (225 M pixels, 675 MB decoded; stb_image itself refuses
  // only beyond 1 GiB), and no pixel data.
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0d", 4) + "IHDR";
  for (const std::uint32_t size : {15000u, 15000u}) {
    for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  png += std::string("\x08\x02\0\0\0", 5) + std::string(4, '\0');  // 8 bits, RGB; the CRC is not checked
  peft::test::write_text(folder / "bomb.png", png);
  CATCH_CHECK_THROWS_WITH(peft::data::decode_image(folder / "bomb.png"),
                          Catch::Contains("bomb.png: 15000x15000 pixels, more than the 178956970"));
}

CATCH_TEST_CASE("a corrupt PNG whose zlib stream made stb_image ask for 2 GiB is one error, without the allocation") {
  // Found by the fuzzer (tests/fuzz/corpus/image/regression-zlib-realloc-2GiB.png): an 8x6 grey PNG whose IDAT
  // chunks made Debian's libstb double its inflate buffer to 2 GiB. decode_image's stb refuses allocations over
  // 1 GiB.
  const std::string hex =
      "89504e470d0a1a0a0000000d4948445200000008000000060800000000db6e80270000001f49444154787e636400001f"
      "49444154785e6364508500460d288305c2d000001f49444154787e636400001f49444154785e6364508500460d288305"
      "c2d0508531803c3003240a62806501b7fa508531803c3003240a62806501b7fa454e44ae";
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  TempFolder folder;
  peft::test::write_text(folder / "bomb.png", bytes);
  CATCH_CHECK_THROWS_WITH(peft::data::decode_image(folder / "bomb.png"), Catch::Contains("bomb.png: cannot decode"));
}

CATCH_TEST_CASE("the fuzzer's image findings are one-line errors") {
  // Inputs kept in the fuzz seed corpus (tests/fuzz/run.sh replays them under ASan + UBSan): Huffman tables over 256
  // codes (an out-of-bounds write), a DC coefficient summed past INT_MAX, a bit reader run past a marker (a shift
  // by 33). stb's reason is the JPEG reader's, or the PNG reader's ("unknown image type") when both tried.
  for (const char* name : {"regression-jpeg-dht-over-256-codes-1.jpg", "regression-jpeg-dht-over-256-codes-2.jpg",
                           "regression-jpeg-dht-over-256-codes-3.jpg", "regression-jpeg-dht-over-256-codes-4.jpg",
                           "regression-jpeg-dc-overflow.jpg", "regression-jpeg-bits-past-marker.jpg"}) {
    CATCH_INFO(name);
    CATCH_CHECK_THROWS_WITH(peft::data::decode_image(fuzz_finding(name)),
                            Catch::Contains(std::string(name) + ": cannot decode"));
  }
}

CATCH_TEST_CASE("a JPEG that ends before every component had a scan is an error, not an image of stale memory") {
  // no-scan: a frame header and then the end; truncated: a three-scan sequential JPEG cut after its first scan.
  for (const char* name : {"regression-jpeg-no-scan.jpg", "regression-jpeg-truncated-before-second-scan.jpg"}) {
    CATCH_INFO(name);
    CATCH_CHECK_THROWS_WITH(peft::data::decode_image(fuzz_finding(name)),
                            Catch::Contains(std::string(name) + ": cannot decode (missing scan)"));
  }
}

CATCH_TEST_CASE("a corrupt JPEG decodes to the same pixels whatever the heap held before") {
  // The fuzzer's input uses decoder state no marker set; stb read it from a fresh malloc, so the pixels (and
  // sometimes the error) changed from run to run. Its allocations are zeroed now.
  const fs::path file = fuzz_finding("regression-jpeg-reads-unset-state.jpg");
  const at::Tensor first = peft::data::decode_image(file);
  {
    std::vector<std::unique_ptr<unsigned char[]>> dirt;
    for (std::size_t size = 16; size <= (std::size_t{1} << 17); size += size / 4 + 16) {
      dirt.emplace_back(new unsigned char[size]);
      std::memset(dirt.back().get(), 0x5a, size);
    }
  }
  CATCH_CHECK(first.sizes() == at::IntArrayRef({3, 6, 305}));
  CATCH_CHECK(at::equal(peft::data::decode_image(file), first));
}
