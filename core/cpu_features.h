#pragma once
// What this machine's CPU can do, for `peft version` and for choices that depend on it (reduced precision on the
// CPU is fast only with AVX512-BF16 or AMX: without them LibTorch's bf16 matmul runs at a fraction of fp32's).

#include <filesystem>
#include <string>

namespace peft {

struct CpuFeatures {
  /// "AMD EPYC 9B14"; empty when the system does not say.
  std::string model;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512_bf16 = false;
  bool amx_bf16 = false;
};

/// The features of the first processor `cpuinfo` lists (Linux's /proc/cpuinfo format: `model name` and `flags`
/// lines); none when the file cannot be read.
CpuFeatures cpu_features(const std::filesystem::path& cpuinfo = "/proc/cpuinfo");

/// "AVX2 yes, AVX-512 no, AVX512-BF16 no, AMX-BF16 no".
std::string cpu_features_text(const CpuFeatures& features);

}  // namespace peft
