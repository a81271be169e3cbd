#include "data/loader.h"

#include <ATen/ATen.h>

#include <numeric>

#include "data/random.h"
#include "data/worker_threads.h"
#include "peft/error.h"

namespace peft::data {
namespace {

// `batch` with every tensor in page-locked memory.
Batch pinned(Batch batch) {
  for (const std::string& name : batch.names()) {
    const at::Tensor tensor = batch.get(name);
    if (tensor.defined() && tensor.is_cpu()) batch.set(name, tensor.pin_memory());
  }
  return batch;
}

}  // namespace

Loader::Loader(std::shared_ptr<peft::Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (options_.batch_size <= 0) throw Error("data", "batch_size must be positive");
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() { stop_workers(); }

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

std::int64_t Loader::batches_per_epoch() const {
  const std::int64_t count = dataset_->size();
  return options_.drop_last ? count / options_.batch_size : (count + options_.batch_size - 1) / options_.batch_size;
}

void Loader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  std::vector<std::size_t> order(static_cast<std::size_t>(dataset_->size()));
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    Random random = Random::for_item(options_.seed, 0, static_cast<std::uint64_t>(epoch));
    random.shuffle(order);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Workers still finishing the old epoch's batches drop them: they check the epoch when they store results.
    order_ = std::move(order);
    epoch_ = epoch;
    next_to_take_ = first_batch;
    next_to_return_ = first_batch;
    ready_.clear();
  }
  changed_.notify_all();
}

std::vector<Batch> Loader::make_parts(std::int64_t epoch, std::int64_t batch) {
  std::vector<std::size_t> indices;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto first = static_cast<std::size_t>(batch * options_.batch_size);
    const std::size_t length = std::min(order_.size(), first + static_cast<std::size_t>(options_.batch_size)) - first;
    const auto shard = static_cast<std::size_t>(options_.shard);
    const auto shards = static_cast<std::size_t>(std::max(1, options_.shards));
    const std::size_t begin = first + length * shard / shards;
    const std::size_t end = first + length * (shard + 1) / shards;
    indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(begin),
                   order_.begin() + static_cast<std::ptrdiff_t>(end));
  }
  const auto parts = static_cast<std::size_t>(std::max(1, options_.micro_batches));
  std::vector<Batch> made;
  for (std::size_t part = 0; part < parts; ++part) {
    std::vector<Batch> examples;
    for (std::size_t i = indices.size() * part / parts; i < indices.size() * (part + 1) / parts; ++i) {
      if (auto example = dataset_->example(static_cast<std::int64_t>(indices[i]), epoch)) {
        examples.push_back(std::move(*example));
      }
    }
    if (examples.empty()) continue;
    Batch collated = dataset_->collate(std::move(examples));
    made.push_back(options_.pin_memory ? pinned(std::move(collated)) : std::move(collated));
  }
  return made;
}

void Loader::work() {
  use_one_thread_here();
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] {
      return stopping_ || (epoch_ >= 0 && next_to_take_ < batches_per_epoch() &&
                           next_to_take_ < next_to_return_ + options_.prefetch);
    });
    if (stopping_) return;
    const std::int64_t epoch = epoch_;
    const std::int64_t batch = next_to_take_++;
    lock.unlock();
    Result result;
    try {
      result.parts = make_parts(epoch, batch);
    } catch (...) {
      result.error = std::current_exception();
    }
    lock.lock();
    if (epoch == epoch_) ready_[batch] = std::move(result);
    changed_.notify_all();
  }
}

std::optional<std::vector<Batch>> Loader::next_parts() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (epoch_ < 0) throw Error("data", "Loader::next() before start_epoch()");
  if (next_to_return_ >= batches_per_epoch()) return std::nullopt;
  const std::int64_t batch = next_to_return_;
  Result result;
  if (workers_.empty()) {  // no workers: do the work here
    const std::int64_t epoch = epoch_;
    lock.unlock();
    result.parts = make_parts(epoch, batch);
    lock.lock();
  } else {
    changed_.wait(lock, [&] { return ready_.count(batch) != 0; });
    result = std::move(ready_.at(batch));
    ready_.erase(batch);
  }
  ++next_to_return_;
  changed_.notify_all();
  if (result.error) std::rethrow_exception(result.error);
  return std::move(result.parts);
}

std::optional<Batch> Loader::next() {
  if (options_.micro_batches > 1) throw Error("data", "Loader::next() on a loader of micro-batches: use next_parts()");
  auto parts = next_parts();
  if (!parts) return std::nullopt;
  return parts->empty() ? Batch() : std::move(parts->front());
}

}  // namespace peft::data
