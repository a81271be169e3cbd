#pragma once
// The collectives a data-parallel run needs, on c10d: a TCPStore rendezvous and a Gloo or NCCL process group
// (process_groups.h). Every call is collective: each rank makes the same calls in the same order. A failure (a rank
// that died, a timeout) is a CollectiveError naming this rank and what was being done.

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "distributed/world.h"
#include "peft/error.h"
#include "peft/task.h"

namespace peft {

/// A collective that failed: another rank died or timed out.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  /// Joins `world`'s process group: "gloo" (host memory: tensors elsewhere are staged through host copies) or
  /// "nccl" (on `device`, this rank's GPU: CPU tensors are staged through it), as resolve_backend names it.
  /// Collectives wait at most `timeout` for the other ranks.
  static std::unique_ptr<Communicator> connect(const World& world, const std::string& backend, const at::Device& device,
                                               std::chrono::seconds timeout);

  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Rank 0's values of `tensors`, in place, on every rank.
  virtual void broadcast(std::vector<at::Tensor>& tensors, const std::string& what) = 0;
  /// The element-wise sums over ranks, in place; the collectives run together and are all waited for.
  virtual void sum(std::vector<at::Tensor>& tensors, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;

  /// The sums of every rank's `tally` (the union of their names, so a rank that saw no batch adds nothing).
  Tally sum(const Tally& tally, const std::string& what);
  /// The sums of `values` over ranks.
  std::vector<double> sum(std::vector<double> values, const std::string& what);

 protected:
  Communicator(int rank, int size) : rank_(rank), size_(size) {}
  /// Every rank's `text` (the store carries it), in rank order.
  virtual std::vector<std::string> exchange(const std::string& text) = 0;
  /// The error for a failed collective.
  [[noreturn]] void failed(const std::string& what, const std::string& reason) const;

 private:
  int rank_;
  int size_;
};

/// Whether this peft can run data-parallel at all (it has c10d's Gloo process group: libgloo-dev at build time).
bool distributed_available();
/// The one-line peft::Error saying why this peft cannot run data-parallel, when it cannot.
void check_distributed_available();
/// The process groups this peft has, as `peft version` lists them: "gloo, nccl", "gloo", or "none".
std::string process_groups_built();

/// The process group a run uses, from [train] distributed_backend and the run's device (after device_of_rank):
/// "auto" is NCCL when the device is CUDA, this peft has NCCL and every process on this machine has a GPU of its
/// own (`gpus_shared` false; NCCL refuses two ranks on one GPU), else Gloo. "nccl" is refused (one line naming the
/// key) on a CPU device or in a peft without NCCL, in every run, one process or many: a recipe that asks for NCCL
/// must not train on something else without a word.
std::string resolve_backend(const std::string& backend, const at::Device& device, bool gpus_shared);

}  // namespace peft
