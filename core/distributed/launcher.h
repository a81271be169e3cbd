#pragma once
// `peft run --nproc N`: starts N worker processes of the same `peft run` on this machine with the environment
// torchrun would give them, hosting their rendezvous store itself (as torchrun's agent does), and waits for them.

#include <string>
#include <vector>

namespace peft {

/// The exit code a launched worker ends with when a collective failed because another rank did: the launcher then
/// reports the rank that failed first instead.
constexpr int kPeerLostExitCode = 3;

/// Runs `argv` (argv[0]: the executable) as ranks 0 … nproc − 1 with RANK, LOCAL_RANK, WORLD_SIZE,
/// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT (a free port, chosen here), TORCHELASTIC_USE_AGENT_STORE and
/// PEFT_LAUNCHED set. Rank 0 writes to this terminal; the others' output goes to files that are removed afterwards
/// unless they failed. A signal to the launcher goes to every worker once. Returns 0 when every rank succeeded and
/// 130 when they were interrupted; otherwise ends the others and throws a peft::Error naming the first rank that
/// failed and how (its last line of output, or the signal that killed it). `resume_hint` ends that message.
int launch_local_workers(int nproc, const std::vector<std::string>& argv, const std::string& resume_hint);

}  // namespace peft
