#include "cpu_features.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace peft {
namespace {

// The value after "key<spaces>: " on a cpuinfo line, or nothing when the line is another key's.
bool value_of(const std::string& line, const std::string& key, std::string& value) {
  if (line.rfind(key, 0) != 0) return false;
  const auto colon = line.find(':');
  if (colon == std::string::npos || line.find_first_not_of(" \t", key.size()) != colon) return false;
  value = line.substr(std::min(line.size(), colon + 2));
  return true;
}

}  // namespace

CpuFeatures cpu_features(const std::filesystem::path& cpuinfo) {
  CpuFeatures features;
  std::ifstream in(cpuinfo);
  std::string line;
  std::string value;
  while (std::getline(in, line)) {
    if (features.model.empty() && value_of(line, "model name", value)) features.model = value;
    if (!value_of(line, "flags", value)) continue;
    std::istringstream words(value);
    const std::set<std::string> flags{std::istream_iterator<std::string>(words), {}};
    features.avx2 = flags.count("avx2") != 0;
    features.avx512f = flags.count("avx512f") != 0;
    features.avx512_bf16 = flags.count("avx512_bf16") != 0;
    features.amx_bf16 = flags.count("amx_bf16") != 0;
    break;  // the first processor's; every core of a machine has the same
  }
  return features;
}

std::string cpu_features_text(const CpuFeatures& features) {
  const auto yes = [](bool flag) { return flag ? " yes" : " no"; };
  return std::string("AVX2") + yes(features.avx2) + ", AVX-512" + yes(features.avx512f) + ", AVX512-BF16" +
         yes(features.avx512_bf16) + ", AMX-BF16" + yes(features.amx_bf16);
}

}  // namespace peft
