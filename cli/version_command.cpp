#include <ATen/Context.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <torch/cuda.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "cpu_features.h"
#include "distributed/communicator.h"
#include "distributed/process_groups.h"
#include "exit_code.h"
#include "peft/build_tag.h"

namespace peft::cli {
namespace {

// Whether the LibTorch peft runs on was built with CUDA: its CUDA library is loaded with it (a CPU-only LibTorch
// has none, whatever GPU the machine has).
bool cuda_built_in() { return dlopen("libtorch_cuda.so", RTLD_LAZY | RTLD_NOLOAD) != nullptr; }

}  // namespace

int run_version_command(const VersionOptions& options) {
  const BuildTag& tag = BuildTag::host();
  const bool cuda = torch::cuda::is_available();
  const auto devices = static_cast<int>(torch::cuda::device_count());
  const bool cudnn = at::globalContext().hasCuDNN();
  const CpuFeatures cpu = cpu_features();
  if (options.json) {
    nlohmann::json out{{"peft", PEFT_SDK_VERSION},
                       {"plugin_api", PEFT_API_VERSION},
                       {"torch", tag.get("torch")},
                       {"cxx11_abi", tag.get("cxx11_abi")},
                       {"stdlib", tag.get("stdlib")},
                       {"compiler", tag.get("compiler")},
                       {"cuda_built_in", cuda_built_in()},
                       {"cuda_available", cuda},
                       {"cuda_devices", devices},
                       {"cudnn", cudnn},
                       {"nccl", nccl_built()},
                       {"mkldnn", at::globalContext().hasMKLDNN()},
                       {"process_groups", process_groups_built()},
                       {"cpu",
                        {{"model", cpu.model},
                         {"avx2", cpu.avx2},
                         {"avx512f", cpu.avx512f},
                         {"avx512_bf16", cpu.avx512_bf16},
                         {"amx_bf16", cpu.amx_bf16}}},
                       {"build_tag", PEFT_BUILD_TAG}};
    std::cout << out.dump(2) << '\n';
  } else {
    std::cout << "peft " << PEFT_SDK_VERSION << " (plugin API " << PEFT_API_VERSION << ")\n"
              << "LibTorch " << tag.get("torch") << ": CUDA " << (cuda_built_in() ? "built in" : "not built in") << ", "
              << devices << " CUDA device" << (devices == 1 ? "" : "s") << (cuda ? "" : " (CUDA not available)")
              << ", cuDNN " << (cudnn ? "yes" : "no") << ", NCCL " << (nccl_built() ? "yes" : "no") << ", oneDNN "
              << (at::globalContext().hasMKLDNN() ? "yes" : "no") << "; data parallelism on " << process_groups_built()
              << '\n'
              << "CPU " << (cpu.model.empty() ? std::string("(unknown)") : cpu.model) << ": " << cpu_features_text(cpu)
              << '\n'
              << "built by " << tag.get("compiler") << " with " << tag.get("stdlib")
              << ", _GLIBCXX_USE_CXX11_ABI=" << tag.get("cxx11_abi") << '\n';
  }
  return kSuccess;
}

}  // namespace peft::cli
