#include "distributed/process_groups.h"

#ifdef PEFT_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include "distributed/communicator.h"
#include "peft/error.h"

namespace peft {

#ifdef PEFT_WITH_GLOO

bool gloo_built() { return true; }

namespace {

// Gloo's device binds the address this host is reached at; on one machine, loopback.
std::string gloo_address(const World& world) {
  return world.master_addr == "localhost" || world.master_addr.rfind("127.", 0) == 0 ? "127.0.0.1" : world.master_addr;
}

}  // namespace

c10::intrusive_ptr<c10d::Backend> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                  std::chrono::seconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(gloo_address(world)));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store), world.rank,
                                                     world.size, options);
}

#else

bool gloo_built() { return false; }

c10::intrusive_ptr<c10d::Backend> make_gloo_group(const c10::intrusive_ptr<c10d::Store>&, const World&,
                                                  std::chrono::seconds) {
  check_distributed_available();
  throw Error("distributed", "no Gloo process group in this peft");
}

#endif

}  // namespace peft
