#include "peft/build_tag.h"

#include <array>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {
namespace {

constexpr std::array<const char*, 4> kCheckedKeys{"torch", "cxx11_abi", "stdlib", "compiler"};

// gcc and clang share the Itanium C++ ABI; what must agree beyond that is the standard library (checked apart).
std::string compiler_abi_family(const std::string& compiler) {
  const std::string family = compiler.substr(0, compiler.find('-'));
  if (family == "gcc" || family == "clang") return "itanium";
  return family;
}

}  // namespace

BuildTag BuildTag::parse(std::string_view text) {
  BuildTag tag;
  for (const std::string& field : split(text, ';')) {
    const std::size_t equals = field.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error("build-tag", "malformed build tag '" + std::string(text) + "', expected key=value;key=value");
    }
    tag.fields_[field.substr(0, equals)] = field.substr(equals + 1);
  }
  for (const char* key : kCheckedKeys) {
    if (tag.fields_.count(key) == 0) {
      throw Error("build-tag", "build tag '" + std::string(text) + "' lacks the field '" + key + "'");
    }
  }
  return tag;
}

const BuildTag& BuildTag::host() {
  static const BuildTag tag = parse(PEFT_BUILD_TAG);
  return tag;
}

std::string BuildTag::get(const std::string& key) const {
  const auto found = fields_.find(key);
  return found == fields_.end() ? std::string() : found->second;
}

std::optional<std::string> BuildTag::incompatibility_with(const BuildTag& host) const {
  if (get("torch") != host.get("torch")) {
    return "plugin built against LibTorch " + get("torch") + ", host uses LibTorch " + host.get("torch");
  }
  if (get("cxx11_abi") != host.get("cxx11_abi")) {
    return "plugin built with _GLIBCXX_USE_CXX11_ABI=" + get("cxx11_abi") + ", host with " + host.get("cxx11_abi");
  }
  if (get("stdlib") != host.get("stdlib")) {
    return "plugin built with C++ standard library " + get("stdlib") + ", host with " + host.get("stdlib");
  }
  if (compiler_abi_family(get("compiler")) != compiler_abi_family(host.get("compiler"))) {
    return "plugin compiled by " + get("compiler") + ", host by " + host.get("compiler") + " (incompatible C++ ABI)";
  }
  return std::nullopt;
}

}  // namespace peft
