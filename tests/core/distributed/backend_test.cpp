// Which process group a data-parallel run uses, from [train] distributed_backend and the run's device.
#include <catch2/catch.hpp>

#include "distributed/communicator.h"
#include "distributed/process_groups.h"
#include "peft/error.h"

CATCH_TEST_CASE("auto is NCCL on a GPU of each process's own when peft has NCCL, else Gloo") {
  const at::Device cpu(at::kCPU);
  const at::Device gpu(at::kCUDA, 1);
  CATCH_CHECK(peft::resolve_backend("auto", cpu, false) == "gloo");
  CATCH_CHECK(peft::resolve_backend("auto", gpu, false) == (peft::nccl_built() ? "nccl" : "gloo"));
  // Two processes on one GPU: NCCL refuses that, Gloo reduces through host copies.
  CATCH_CHECK(peft::resolve_backend("auto", gpu, true) == "gloo");
  CATCH_CHECK(peft::resolve_backend("gloo", gpu, false) == "gloo");
}

CATCH_TEST_CASE("nccl is refused on the CPU and in a peft without NCCL, naming the key") {
  const auto message_of = [](const at::Device& device) {
    try {
      peft::resolve_backend("nccl", device, false);
    } catch (const peft::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string key = "[train] distributed_backend = \"nccl\": ";
  if (peft::nccl_built()) {
    CATCH_CHECK(message_of(at::Device(at::kCPU)) ==
                key +
                    "NCCL reduces CUDA tensors, and this run's device is cpu (device = \"cuda\", or "
                    "distributed_backend = \"gloo\" on the CPU)");
    CATCH_CHECK(peft::resolve_backend("nccl", at::Device(at::kCUDA, 0), false) == "nccl");
  } else {
    CATCH_CHECK(message_of(at::Device(at::kCUDA, 0)).rfind(key + "this peft was built without NCCL", 0) == 0);
  }
  CATCH_CHECK(peft::process_groups_built() ==
              std::string(peft::gloo_built() ? "gloo" : "") + (peft::gloo_built() && peft::nccl_built() ? ", " : "") +
                  (peft::nccl_built() ? "nccl" : "") + (!peft::gloo_built() && !peft::nccl_built() ? "none" : ""));
}
