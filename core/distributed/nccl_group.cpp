#include "distributed/process_groups.h"

#ifdef PEFT_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "peft/error.h"

namespace peft {

#ifdef PEFT_WITH_NCCL

bool nccl_built() { return true; }

c10::intrusive_ptr<c10d::Backend> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                  std::chrono::seconds timeout, int device_index) {
  // As torch.distributed does with a device_id: this rank's GPU is current and bound, so the communicator is made
  // now (a rank that cannot reach the others fails here, not in its first step).
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", store),
                                                           world.rank, world.size, options);
  group->setBoundDeviceId(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
  group->eagerConnectSingleDevice(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
  return group;
}

#else

bool nccl_built() { return false; }

c10::intrusive_ptr<c10d::Backend> make_nccl_group(const c10::intrusive_ptr<c10d::Store>&, const World&,
                                                  std::chrono::seconds, int) {
  throw Error("distributed",
              "[train] distributed_backend = \"nccl\": this peft was built without NCCL (a LibTorch with CUDA and "
              "NCCL, as the torch wheel's, has it)");
}

#endif

}  // namespace peft
