#pragma once
// Where this process stands in a data-parallel run, as the launcher told it through the environment: torchrun's
// variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE),
// set by `torchrun --no_python`, by `peft run --nproc N`, or by hand; under srun without them, SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID and SLURM_NTASKS_PER_NODE with MASTER_ADDR and MASTER_PORT (the script `peft sweep
// --emit slurm --nproc N` writes exports those two).

#include <cstdint>
#include <string>

namespace peft {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  int local_size = 1;
  /// Where the rendezvous store listens (rank 0 hosts it, unless `agent_store`).
  std::string master_addr;
  int master_port = 0;
  /// The launcher already hosts the store (torchrun's agent, `peft run --nproc`): every rank is a client.
  bool agent_store = false;
  /// TORCHELASTIC_RESTART_COUNT: the store's keys of this attempt live under /worker/attempt_N, as torchrun's do.
  int restart_count = 0;
  /// Started by `peft run --nproc` (PEFT_LAUNCHED=1): the launcher reports a failed rank in one line, so a rank
  /// leaves out the error a lost peer causes.
  bool launched = false;

  bool distributed() const { return size > 1; }
};

/// The world the environment describes; a single process when none is set (or WORLD_SIZE is 1). A variable that is
/// not a number in range, or a world without MASTER_ADDR/MASTER_PORT, is a peft::Error naming the variable.
World world_from_environment();

/// The torch threads each process of `world` runs: OMP_NUM_THREADS when set (torchrun sets 1), else the recipe's
/// `threads` (0: every core) shared among the processes on this machine, at least 1.
int threads_per_process(const World& world, std::int64_t recipe_threads);

/// The device each process of `world` runs on, as torchrun scripts place them: the recipe's `device` ("auto" that
/// finds CUDA, or "cuda") becomes this process's own GPU, "cuda:LOCAL_RANK"; with one visible GPU (srun's per-task
/// binding shows each task only its own) every process uses cuda:0. "cpu", "cuda:N" and "auto" without CUDA stay as
/// written. More processes on this machine than GPUs (but more than one GPU) is a peft::Error naming the counts.
std::string device_of_rank(const World& world, const std::string& device, int cuda_devices);

}  // namespace peft
