#include <torch/cuda.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "peft/build_tag.h"

namespace peft::cli {

int run_version_command(const VersionOptions& options) {
  const BuildTag& tag = BuildTag::host();
  const bool cuda = torch::cuda::is_available();
  if (options.json) {
    nlohmann::json out{{"peft", PEFT_SDK_VERSION},    {"plugin_api", PEFT_API_VERSION},
                       {"torch", tag.get("torch")},   {"cxx11_abi", tag.get("cxx11_abi")},
                       {"stdlib", tag.get("stdlib")}, {"compiler", tag.get("compiler")},
                       {"cuda_available", cuda},      {"build_tag", PEFT_BUILD_TAG}};
    std::cout << out.dump(2) << '\n';
  } else {
    std::cout << "peft " << PEFT_SDK_VERSION << " (plugin API " << PEFT_API_VERSION << ")\n"
              << "LibTorch " << tag.get("torch") << ", CUDA " << (cuda ? "available" : "not available") << "\n"
              << "built by " << tag.get("compiler") << " with " << tag.get("stdlib")
              << ", _GLIBCXX_USE_CXX11_ABI=" << tag.get("cxx11_abi") << '\n';
  }
  return kSuccess;
}

}  // namespace peft::cli
