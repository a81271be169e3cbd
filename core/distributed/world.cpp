#include "distributed/world.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

#include "peft/error.h"

namespace peft {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The integer `name` holds, in [low, high]; unset: `fallback`.
int integer(const char* name, int low, int high, std::optional<int> fallback = std::nullopt) {
  const auto text = variable(name);
  if (!text) {
    if (fallback) return *fallback;
    throw Error("distributed", std::string(name) + " is not set (a distributed run needs it)");
  }
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < low || value > high) {
    throw Error("distributed", std::string(name) + "=" + *text + ": expected an integer from " + std::to_string(low) +
                                   " to " + std::to_string(high));
  }
  return static_cast<int>(value);
}

bool truthy(const char* name) {
  const auto text = variable(name);
  return text && (*text == "1" || *text == "True" || *text == "true");
}

}  // namespace

World world_from_environment() {
  World world;
  const bool torchrun = variable("WORLD_SIZE").has_value() || variable("RANK").has_value();
  const bool slurm = !torchrun && variable("SLURM_NTASKS").has_value() && variable("MASTER_ADDR").has_value();
  if (!torchrun && !slurm) return world;
  constexpr int kMax = 1 << 20;
  world.size = integer(torchrun ? "WORLD_SIZE" : "SLURM_NTASKS", 1, kMax);
  if (world.size == 1) return World();
  world.rank = integer(torchrun ? "RANK" : "SLURM_PROCID", 0, world.size - 1);
  world.local_rank = integer(torchrun ? "LOCAL_RANK" : "SLURM_LOCALID", 0, world.size - 1, world.rank);
  // torchrun sets LOCAL_WORLD_SIZE (by hand: assume every process shares this machine); srun's
  // SLURM_NTASKS_PER_NODE reads "2" or "2(x3)", of which the count per node is the first number.
  if (torchrun) {
    world.local_size = integer("LOCAL_WORLD_SIZE", 1, world.size, world.size);
  } else {
    const std::string per_node = variable("SLURM_NTASKS_PER_NODE").value_or("1");
    world.local_size = std::max(1, std::min(world.size, std::atoi(per_node.c_str())));
  }
  if (world.local_rank >= world.local_size) {
    throw Error("distributed", "LOCAL_RANK " + std::to_string(world.local_rank) + " is not below the " +
                                   std::to_string(world.local_size) + " processes on this machine");
  }
  const auto address = variable("MASTER_ADDR");
  if (!address) throw Error("distributed", "MASTER_ADDR is not set (a distributed run needs it)");
  world.master_addr = *address;
  world.master_port = integer("MASTER_PORT", 1, 65535);
  world.agent_store = truthy("TORCHELASTIC_USE_AGENT_STORE");
  world.restart_count = integer("TORCHELASTIC_RESTART_COUNT", 0, kMax, 0);
  world.launched = truthy("PEFT_LAUNCHED");
  return world;
}

int threads_per_process(const World& world, std::int64_t recipe_threads) {
  if (variable("OMP_NUM_THREADS")) return integer("OMP_NUM_THREADS", 1, 4096);
  const std::int64_t all =
      recipe_threads > 0 ? recipe_threads : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<std::int64_t>(1, all / std::max(1, world.local_size)));
}

std::string device_of_rank(const World& world, const std::string& device, int cuda_devices) {
  const bool wants_gpu = device == "cuda" || (device == "auto" && cuda_devices > 0);
  if (!world.distributed() || !wants_gpu || cuda_devices <= 0) return device;
  if (cuda_devices == 1) return "cuda:0";
  if (world.local_size > cuda_devices) {
    throw Error("distributed", "device = \"" + device + "\": " + std::to_string(world.local_size) +
                                   " processes on this machine but " + std::to_string(cuda_devices) +
                                   " CUDA devices (start at most one process per GPU, or name one, device = "
                                   "\"cuda:0\", for all to share)");
  }
  return "cuda:" + std::to_string(world.local_rank);
}

}  // namespace peft
