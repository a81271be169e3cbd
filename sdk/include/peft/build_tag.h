#pragma once
/// \file
/// The build tag: what a binary was compiled against, so the host can refuse a plugin whose C++ would not mix.
///
/// `PEFT_BUILD_TAG` expands, in the translation unit that uses it, to a string such as
/// `sdk=0.1.0;torch=1.13.0;cxx11_abi=1;stdlib=libstdc++;compiler=gcc-12.2.0`. A plugin bakes it into its
/// descriptor; the host compares it with its own and refuses a different LibTorch version, C++11 string ABI,
/// standard library or compiler ABI family.

#include <torch/version.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "peft/api.h"

#define PEFT_STRINGIFY_IMPL(x) #x
#define PEFT_STRINGIFY(x) PEFT_STRINGIFY_IMPL(x)

#if defined(_LIBCPP_VERSION)
#define PEFT_STDLIB "libc++"
#elif defined(__GLIBCXX__)
#define PEFT_STDLIB "libstdc++"
#elif defined(_MSC_VER)
#define PEFT_STDLIB "msvc-stl"
#else
#define PEFT_STDLIB "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define PEFT_CXX11_ABI PEFT_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define PEFT_CXX11_ABI "none"
#endif

#if defined(__clang__)
#define PEFT_COMPILER \
  "clang-" PEFT_STRINGIFY(__clang_major__) "." PEFT_STRINGIFY(__clang_minor__) "." PEFT_STRINGIFY(__clang_patchlevel__)
#elif defined(__GNUC__)
#define PEFT_COMPILER \
  "gcc-" PEFT_STRINGIFY(__GNUC__) "." PEFT_STRINGIFY(__GNUC_MINOR__) "." PEFT_STRINGIFY(__GNUC_PATCHLEVEL__)
#elif defined(_MSC_VER)
#define PEFT_COMPILER "msvc-" PEFT_STRINGIFY(_MSC_VER)
#else
#define PEFT_COMPILER "unknown-0"
#endif

#define PEFT_BUILD_TAG                                                                                \
  "sdk=" PEFT_SDK_VERSION ";torch=" TORCH_VERSION ";cxx11_abi=" PEFT_CXX11_ABI ";stdlib=" PEFT_STDLIB \
  ";compiler=" PEFT_COMPILER

namespace peft {

/// A parsed build tag: its `key=value` fields.
class PEFT_API BuildTag {
 public:
  /// Parses `key=value;key=value`; throws peft::Error naming the tag when it is malformed or lacks a field the
  /// host checks (`torch`, `cxx11_abi`, `stdlib`, `compiler`).
  static BuildTag parse(std::string_view text);

  /// The tag the SDK library itself was built with: the host's.
  static const BuildTag& host();

  /// The value of `key`, or an empty string.
  std::string get(const std::string& key) const;

  /// Why a plugin built with `this` tag cannot run in a host built with `host`, or nothing when it can.
  std::optional<std::string> incompatibility_with(const BuildTag& host) const;

 private:
  std::map<std::string, std::string> fields_;
};

}  // namespace peft
