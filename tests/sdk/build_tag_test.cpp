#include "peft/build_tag.h"

#include <catch2/catch.hpp>

#include "peft/error.h"

using peft::BuildTag;

namespace {

std::string tag_with(const std::string& torch, const std::string& abi, const std::string& stdlib,
                     const std::string& compiler) {
  return "sdk=0.1.0;torch=" + torch + ";cxx11_abi=" + abi + ";stdlib=" + stdlib + ";compiler=" + compiler;
}

}  // namespace

CATCH_TEST_CASE("the host build tag names this build's LibTorch, ABI, standard library and compiler") {
  const BuildTag& host = BuildTag::host();
  CATCH_CHECK(host.get("torch") == TORCH_VERSION);
  CATCH_CHECK(host.get("sdk") == PEFT_SDK_VERSION);
  CATCH_CHECK(host.get("stdlib") == PEFT_STDLIB);
  CATCH_CHECK(host.get("compiler") == PEFT_COMPILER);
  CATCH_CHECK(!host.incompatibility_with(host).has_value());
}

CATCH_TEST_CASE("a build tag that differs in a checked field explains the difference with both values") {
  const BuildTag host = BuildTag::parse(tag_with("1.13.0", "1", "libstdc++", "gcc-12.2.0"));

  const auto torch = BuildTag::parse(tag_with("2.1.0", "1", "libstdc++", "gcc-12.2.0")).incompatibility_with(host);
  CATCH_REQUIRE(torch.has_value());
  CATCH_CHECK(*torch == "plugin built against LibTorch 2.1.0, host uses LibTorch 1.13.0");

  const auto abi = BuildTag::parse(tag_with("1.13.0", "0", "libstdc++", "gcc-12.2.0")).incompatibility_with(host);
  CATCH_REQUIRE(abi.has_value());
  CATCH_CHECK(*abi == "plugin built with _GLIBCXX_USE_CXX11_ABI=0, host with 1");

  const auto stdlib = BuildTag::parse(tag_with("1.13.0", "1", "libc++", "clang-14.0.6")).incompatibility_with(host);
  CATCH_REQUIRE(stdlib.has_value());
  CATCH_CHECK(*stdlib == "plugin built with C++ standard library libc++, host with libstdc++");

  const auto compiler = BuildTag::parse(tag_with("1.13.0", "1", "libstdc++", "msvc-1938")).incompatibility_with(host);
  CATCH_REQUIRE(compiler.has_value());
  CATCH_CHECK(*compiler == "plugin compiled by msvc-1938, host by gcc-12.2.0 (incompatible C++ ABI)");
}

CATCH_TEST_CASE("gcc and clang builds against the same libstdc++ and LibTorch mix") {
  const BuildTag gcc = BuildTag::parse(tag_with("1.13.0", "1", "libstdc++", "gcc-12.2.0"));
  const BuildTag clang = BuildTag::parse(tag_with("1.13.0", "1", "libstdc++", "clang-14.0.6"));
  CATCH_CHECK(!clang.incompatibility_with(gcc).has_value());
  CATCH_CHECK(!gcc.incompatibility_with(clang).has_value());
}

CATCH_TEST_CASE("a malformed build tag is an error that quotes it") {
  CATCH_CHECK_THROWS_WITH(BuildTag::parse("torch=1.13.0;garbage"),
                          "[build-tag] malformed build tag 'torch=1.13.0;garbage', expected key=value;key=value");
  CATCH_CHECK_THROWS_WITH(BuildTag::parse(""), Catch::Contains("malformed build tag ''"));
  CATCH_CHECK_THROWS_WITH(BuildTag::parse("torch=1.13.0;cxx11_abi=1;stdlib=libstdc++"),
                          Catch::Contains("lacks the field 'compiler'"));
  CATCH_CHECK_THROWS_AS(BuildTag::parse("=1"), peft::Error);
}
