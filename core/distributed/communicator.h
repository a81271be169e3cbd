#pragma once
// The collectives a data-parallel run needs, on c10d: a TCPStore rendezvous and a Gloo process group (NCCL where
// the LibTorch has it). Every call is collective: each rank makes the same calls in the same order. A failure (a
// rank that died, a timeout) is a CollectiveError naming this rank and what was being done.

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

  /// Joins `world`'s process group: "gloo" (CPU tensors), or "nccl" (CUDA; only in a LibTorch built with it).
  /// Collectives wait at most `timeout` for the other ranks.
  static std::unique_ptr<Communicator> connect(const World& world, const std::string& backend,
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

/// Whether this peft was built with c10d's Gloo process group (libgloo-dev).
bool distributed_available();

/// Refuses ([train] distributed_backend's one-line peft::Error) a backend this peft cannot run, in every run, one
/// process or many: a recipe that asks for NCCL must not train on something else without a word.
void check_backend_available(const std::string& backend);

}  // namespace peft
