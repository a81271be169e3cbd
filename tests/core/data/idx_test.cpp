#include "data/idx.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

std::string idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string bytes{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const auto dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((dim >> shift) & 0xff));
  }
  return bytes + data;
}

void write_gzip(const fs::path& file, const std::string& bytes) {
  gzFile handle = gzopen(file.c_str(), "wb");
  gzwrite(handle, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(handle);
}

}  // namespace

CATCH_TEST_CASE("IDX files read the same plain and gzip-compressed") {
  TempFolder folder;
  const std::string bytes = idx_bytes(0x08, {2, 2, 3}, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff"));
  peft::test::write_text(folder / "plain-idx3-ubyte", bytes);
  write_gzip(folder / "packed-idx3-ubyte.gz", bytes);
  for (const char* name : {"plain-idx3-ubyte", "packed-idx3-ubyte.gz"}) {
    const at::Tensor tensor = peft::data::read_idx(folder / name);
    CATCH_CHECK(tensor.sizes() == at::IntArrayRef({2, 2, 3}));
    CATCH_CHECK(tensor.scalar_type() == at::kByte);
    CATCH_CHECK(tensor[1][1][2].item<int>() == 255);
    CATCH_CHECK(tensor.sum().item<int>() == 66 + 255);
  }
}

CATCH_TEST_CASE("Debian's Fashion-MNIST files read with their documented shapes") {
  const fs::path folder = "/usr/share/datasets/fashion-mnist";
  const at::Tensor images = peft::data::read_idx(folder / "t10k-images-idx3-ubyte.gz");
  const at::Tensor labels = peft::data::read_idx(folder / "t10k-labels-idx1-ubyte.gz");
  CATCH_CHECK(images.sizes() == at::IntArrayRef({10000, 28, 28}));
  CATCH_CHECK(labels.sizes() == at::IntArrayRef({10000}));
  CATCH_CHECK(labels.max().item<int>() == 9);
  CATCH_CHECK(at::bincount(labels.to(at::kLong)).min().item<int>() == 1000);  // 1,000 test images a class
}

CATCH_TEST_CASE("broken IDX files are errors naming the file") {
  TempFolder folder;
  peft::test::write_text(folder / "text", "hello world");
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "text"), Catch::Contains("text is not an IDX file"));
  peft::test::write_text(folder / "float", idx_bytes(0x0D, {1}, std::string(4, '\0')));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "float"), Catch::Contains("expected 0x08 (unsigned byte)"));
  peft::test::write_text(folder / "short", idx_bytes(0x08, {2, 3}, std::string(5, '\0')));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "short"),
                          Catch::Contains("short: 5 data bytes, the header's dimensions need 6 (truncated?)"));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "missing"), Catch::Contains("cannot open"));
  peft::test::write_text(folder / "long", idx_bytes(0x08, {2, 3}, std::string(7, '\0')));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "long"),
                          Catch::Contains("long: more data bytes") && Catch::Contains("need 6 (trailing data?)"));
}

CATCH_TEST_CASE("an IDX header claiming more than 16 GiB is refused before allocating") {
  TempFolder folder;
  peft::test::write_text(folder / "huge", idx_bytes(0x08, {0xffffffffu, 0xffffffffu, 2}, std::string(8, '\0')));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "huge"),
                          Catch::Contains("huge: the header's dimensions claim more than 16 GiB"));
  // Found by the fuzzer: a zero dimension makes the data empty, but the others' strides still overflowed in
  // LibTorch 2 ("Stride calculation overflowed", not a peft::Error).
  peft::test::write_text(folder / "empty", idx_bytes(0x08, {0, 0x10000u, 0x10000u, 0x10000u}, ""));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "empty"),
                          Catch::Contains("empty: the header's dimensions claim more than 16 GiB"));
  // Found by the fuzzer: a header claiming 2.8 GB over 12 data bytes allocated the 2.8 GB before finding out.
  peft::test::write_text(folder / "claims", idx_bytes(0x08, {2, 2, 0x2a000003u}, std::string(12, '\1')));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "claims"),
                          Catch::Contains("claims: 12 data bytes, the header's dimensions need 2818572300"));
  // A gzip bomb (a tiny file inflating to 64 MiB) with a small header stops reading after one byte too many.
  write_gzip(folder / "bomb.gz", idx_bytes(0x08, {4}, std::string(64u << 20, '\0')));
  CATCH_CHECK(fs::file_size(folder / "bomb.gz") < (1u << 20));
  CATCH_CHECK_THROWS_WITH(peft::data::read_idx(folder / "bomb.gz"), Catch::Contains("(trailing data?)"));
}
