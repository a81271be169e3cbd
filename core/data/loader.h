#pragma once

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "peft/batch.h"
#include "peft/dataset.h"

namespace peft::data {

/// How a dataset becomes batches.
struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  /// Drop a last batch smaller than batch_size.
  bool drop_last = false;
  /// Threads that make examples; 0 does the work on the calling thread.
  int workers = 2;
  /// Batches prepared ahead of the consumer.
  int prefetch = 4;
  /// The order is a function of (seed, epoch): the same for the same seed, whatever the number of workers.
  std::uint64_t seed = 0;
  /// Data parallelism: this process makes only share `shard` of `shards` of every batch (a contiguous part of the
  /// batch one process would make), so the ranks' shares together are the single-process batches.
  int shard = 0;
  int shards = 1;
  /// Gradient accumulation: each batch (this process's share) is made as this many micro-batches, contiguous parts
  /// of it collated on their own (so each is padded to its own longest example); an empty part is left out.
  int micro_batches = 1;
  /// Page-locked batches (a CUDA run: as torch's DataLoader(pin_memory=True)), so that Batch::to copies them to
  /// the GPU asynchronously, overlapping the next batch's work.
  bool pin_memory = false;
};

/// Makes a dataset's examples and collates them into batches in worker threads, in a fixed order per (seed, epoch).
class Loader {
 public:
  Loader(std::shared_ptr<peft::Dataset> dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Starts epoch `epoch` (abandoning the rest of the current one) at batch `first_batch` (to continue an epoch
  /// interrupted after that many batches: order and augmentation do not depend on where it starts).
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The next batch of the epoch (this process's share of it: an empty Batch when the share is empty), or nothing at
  /// its end. Rethrows a worker's error (a bad image with on_bad_image = "error").
  std::optional<Batch> next();
  /// The next batch as its micro-batches (LoaderOptions::micro_batches of them, fewer when the share is smaller; none
  /// when it is empty), or nothing at the epoch's end.
  std::optional<std::vector<Batch>> next_parts();

  std::int64_t batches_per_epoch() const;
  /// Examples the dataset left out so far (on_bad_image = "skip").
  std::int64_t skipped() const { return dataset_->skipped(); }
  const peft::Dataset& dataset() const { return *dataset_; }

 private:
  struct Result {
    std::vector<Batch> parts;
    std::exception_ptr error;
  };
  std::vector<Batch> make_parts(std::int64_t epoch, std::int64_t batch);
  void work();
  void stop_workers();

  std::shared_ptr<peft::Dataset> dataset_;
  LoaderOptions options_;
  std::vector<std::size_t> order_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::int64_t epoch_ = -1;
  std::int64_t next_to_take_ = 0;    // next batch a worker starts
  std::int64_t next_to_return_ = 0;  // next batch next() returns
  std::map<std::int64_t, Result> ready_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace peft::data
