#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "peft/batch.h"

namespace peft::data {

struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  /// Drop a last batch smaller than batch_size.
  bool drop_last = false;
  /// Threads that decode and transform; 0 does the work on the calling thread.
  int workers = 2;
  /// Batches prepared ahead of the consumer.
  int prefetch = 4;
  /// Order and augmentation are a function of (seed, epoch, sample): the same for the same seed, whatever the
  /// number of workers.
  std::uint64_t seed = 0;
  /// Keep decoded images in memory after their first use (small splits).
  bool cache = false;
  /// "error": a missing or corrupt image stops with its path; "skip": it is left out and counted.
  std::string on_bad_image = "error";
  TransformOptions transform;
};

/// Decodes, transforms and batches a split in worker threads, in a fixed order per (seed, epoch). Batches hold
/// `images` [B, 3, S, S] float and `labels` [B] int64.
class Loader {
 public:
  Loader(Split split, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Starts epoch `epoch` (abandoning the rest of the current one) at batch `first_batch` (to continue an epoch
  /// interrupted after that many batches: order and augmentation do not depend on where it starts).
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The next batch of the epoch, or nothing at its end. Rethrows a worker's error (a bad image with
  /// on_bad_image = "error").
  std::optional<Batch> next();

  std::int64_t batches_per_epoch() const;
  /// Images skipped so far (on_bad_image = "skip").
  std::int64_t skipped() const { return skipped_.load(); }
  const Split& split() const { return split_; }

 private:
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  Batch make_batch(std::int64_t epoch, std::int64_t batch);
  at::Tensor load_image(std::size_t index);
  void work();
  void stop_workers();

  Split split_;
  LoaderOptions options_;
  std::vector<std::size_t> order_;
  std::vector<at::Tensor> cache_;
  std::mutex cache_mutex_;
  std::atomic<std::int64_t> skipped_{0};

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
