#include "peft/safetensors.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

const fs::path kReference = PEFT_REFERENCE_FIXTURE_DIR;

// Writes a file made of an 8-byte header length, `header` and `data`, to test the reader on hand-made bytes.
fs::path write_raw(const TempFolder& folder, const std::string& header, const std::string& data,
                   std::uint64_t declared_length = UINT64_MAX) {
  const fs::path file = folder / "raw.safetensors";
  std::ofstream out(file, std::ios::binary);
  const std::uint64_t length = declared_length == UINT64_MAX ? header.size() : declared_length;
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(length >> (8 * i)));
  out << header << data;
  return file;
}

std::string floats(std::size_t count) { return std::string(count * 4, '\0'); }

}  // namespace

CATCH_TEST_CASE("reads timm's checkpoint with names in file order, shapes, dtypes and metadata") {
  const auto file = peft::read_safetensors(kReference / "timm_vit_p4_s32.safetensors");
  CATCH_REQUIRE(file.tensors.size() == 32);
  CATCH_CHECK(file.tensors.front().first == "cls_token");
  CATCH_CHECK(file.tensors.back().first == "head.bias");
  CATCH_CHECK(file.at("pos_embed").sizes() == at::IntArrayRef({1, 65, 64}));
  CATCH_CHECK(file.at("blocks.1.attn.qkv.weight").scalar_type() == at::kFloat);
  CATCH_CHECK(file.metadata.at("format") == "timm VisionTransformer state_dict");
  CATCH_CHECK(file.find("nope") == nullptr);
  CATCH_CHECK_THROWS_WITH(file.at("nope"), Catch::Contains("has no tensor 'nope'"));
}

CATCH_TEST_CASE("write then read gives the same tensors for every dtype, and leaves no temporary file") {
  TempFolder folder;
  at::manual_seed(0);
  const std::vector<std::pair<std::string, at::Tensor>> tensors{
      {"f32", at::randn({3, 5})},
      {"f16", at::randn({7}).to(at::kHalf)},
      {"bf16", at::randn({2, 3}).to(at::kBFloat16)},
      {"f64", at::randn({1}, at::kDouble)},
      {"i64", at::arange(6, at::kLong).reshape({2, 3})},
      {"u8", at::arange(5, at::kByte)},
      {"flag", at::ones({2}, at::kBool)},
      {"empty", at::zeros({0, 4})},
      {"strided", at::randn({4, 4}).t()},
  };
  peft::write_safetensors(folder / "all.safetensors", tensors, {{"who", "test"}});
  const auto file = peft::read_safetensors(folder / "all.safetensors");
  CATCH_REQUIRE(file.tensors.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    CATCH_CHECK(file.tensors[i].first == tensors[i].first);
    CATCH_CHECK(file.tensors[i].second.scalar_type() == tensors[i].second.scalar_type());
    CATCH_CHECK(at::equal(file.tensors[i].second, tensors[i].second));
  }
  CATCH_CHECK(file.metadata.at("who") == "test");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder.path())) ++entries;
  CATCH_CHECK(entries == 1);
}

CATCH_TEST_CASE("read_into converts a stored tensor into the model's, a few MiB at a time") {
  TempFolder folder;
  at::manual_seed(0);
  // 2.5 M BF16 values: more than one 4 MiB chunk, the last one partial; an odd-length tensor first misaligns it.
  const at::Tensor big = at::randn({2500, 1000}).to(at::kBFloat16);
  const at::Tensor odd = at::randn({3}).to(at::kHalf);
  peft::write_safetensors(folder / "m.safetensors", {{"odd", odd}, {"big", big}});
  const peft::SafetensorsFile file(folder / "m.safetensors");
  at::Tensor into = at::empty({2500, 1000});
  file.read_into("big", into);
  CATCH_CHECK(into.equal(big.to(at::kFloat)));
  at::Tensor strided = at::empty({3, 2}).select(1, 0);  // not contiguous: read whole, then copied
  file.read_into("odd", strided);
  CATCH_CHECK(strided.equal(odd.to(at::kFloat)));
  at::Tensor wrong = at::empty({4});
  CATCH_CHECK_THROWS_WITH(file.read_into("odd", wrong),
                          Catch::Contains("'odd' has 3 elements, the tensor it is read into 4"));
}

CATCH_TEST_CASE("every kind of broken file is one clear error naming the file") {
  TempFolder folder;
  const std::string good_header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";

  CATCH_SECTION("missing file") {
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(folder / "none.safetensors"),
                            Catch::Contains("cannot open") && Catch::Contains("none.safetensors"));
  }
  CATCH_SECTION("shorter than the length field") {
    peft::test::write_text(folder / "short.safetensors", "abc");
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(folder / "short.safetensors"),
                            Catch::Contains("short.safetensors: 3 bytes is too short"));
  }
  CATCH_SECTION("header length past the end of the file") {
    const auto file = write_raw(folder, good_header, floats(4), 1u << 20);
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("header length 1048576 runs past the end"));
  }
  CATCH_SECTION("an absurd header length is refused without allocating it") {
    const auto file = write_raw(folder, good_header, floats(4), UINT64_MAX - 1);
    CATCH_CHECK_THROWS_AS(peft::read_safetensors(file), peft::Error);
  }
  CATCH_SECTION("header that is not JSON") {
    const auto file = write_raw(folder, "{not json", floats(4));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("header is not a JSON object"));
  }
  CATCH_SECTION("data truncated: offsets past the end") {
    const auto file = write_raw(folder, good_header, floats(3));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file),
                            Catch::Contains("tensor 'w': data_offsets [0, 16] outside the 12 data bytes"));
  }
  CATCH_SECTION("overlapping tensors") {
    const auto file = write_raw(
        folder,
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        floats(3));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("tensors 'a' and 'b' overlap"));
  }
  CATCH_SECTION("unknown dtype") {
    const auto file = write_raw(folder, R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", floats(1));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("tensor 'w': unknown dtype 'F8_E4M3'"));
  }
  CATCH_SECTION("size that does not match the shape") {
    const auto file = write_raw(folder, R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", floats(4));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file),
                            Catch::Contains("tensor 'w': 16 data bytes for shape [3,2] F32, expected 24"));
  }
  CATCH_SECTION("negative or non-integer shape") {
    const auto file = write_raw(folder, R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", floats(1));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("is not sizes"));
  }
  CATCH_SECTION("a tensor named twice (JSON keeps the last one, so it would load silently)") {
    const auto file = write_raw(
        folder,
        R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
        floats(4));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file),
                            Catch::Contains("raw.safetensors: the header names tensor 'w' twice"));
    CATCH_CHECK_THROWS_WITH(peft::SafetensorsFile(file), Catch::Contains("names tensor 'w' twice"));
  }
  CATCH_SECTION("missing fields") {
    const auto file = write_raw(folder, R"({"w":{"dtype":"F32"}})", floats(1));
    CATCH_CHECK_THROWS_WITH(peft::read_safetensors(file), Catch::Contains("lacks dtype, shape or data_offsets"));
  }
}
