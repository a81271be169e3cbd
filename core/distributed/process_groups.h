#pragma once
// The c10d process groups this peft was built with, each behind one factory (gloo_group.cpp, nccl_group.cpp): the
// rest of the runtime sees only c10d::Backend, so the Gloo and NCCL headers (and Gloo's and NCCL's own) stay in the
// file that builds the group.

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

#include "distributed/world.h"

namespace peft {

/// Whether this peft has c10d's Gloo process group (its headers, Debian's libgloo-dev, were found at build time).
bool gloo_built();
/// Whether this peft has c10d's NCCL process group (a LibTorch built with CUDA and NCCL, nccl.h found).
bool nccl_built();

/// `world`'s Gloo group over `store` (host memory; CUDA tensors are staged through host copies).
c10::intrusive_ptr<c10d::Backend> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                  std::chrono::seconds timeout);
/// `world`'s NCCL group over `store`, bound to this rank's CUDA device `device_index`.
c10::intrusive_ptr<c10d::Backend> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                  std::chrono::seconds timeout, int device_index);

}  // namespace peft
