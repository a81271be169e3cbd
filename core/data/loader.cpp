#include "data/loader.h"

#include <ATen/ATen.h>

#include <numeric>

#include "data/image_io.h"
#include "data/worker_threads.h"
#include "peft/error.h"

namespace peft::data {

Loader::Loader(Split split, LoaderOptions options) : split_(std::move(split)), options_(std::move(options)) {
  if (options_.batch_size <= 0) throw Error("data", "batch_size must be positive");
  if (options_.on_bad_image != "error" && options_.on_bad_image != "skip") {
    throw Error("data", "data.on_bad_image = '" + options_.on_bad_image + "', expected error or skip");
  }
  validate(options_.transform);
  if (options_.cache) cache_.resize(split_.samples.size());
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
  const auto count = static_cast<std::int64_t>(split_.samples.size());
  return options_.drop_last ? count / options_.batch_size : (count + options_.batch_size - 1) / options_.batch_size;
}

void Loader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  std::vector<std::size_t> order(split_.samples.size());
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

at::Tensor Loader::load_image(std::size_t index) {
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_[index].defined()) return cache_[index];
  }
  at::Tensor image = decode_image(split_.samples[index].image);
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[index] = image;
  }
  return image;
}

Batch Loader::make_batch(std::int64_t epoch, std::int64_t batch) {
  std::vector<std::size_t> indices;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto begin = static_cast<std::size_t>(batch * options_.batch_size);
    const auto end = std::min(order_.size(), begin + static_cast<std::size_t>(options_.batch_size));
    indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(begin),
                   order_.begin() + static_cast<std::ptrdiff_t>(end));
  }
  std::vector<at::Tensor> images;
  std::vector<std::int64_t> labels;
  for (const std::size_t index : indices) {
    at::Tensor image;
    try {
      image = load_image(index);
    } catch (const Error&) {
      if (options_.on_bad_image == "error") throw;
      ++skipped_;
      continue;
    }
    Random random = Random::for_item(options_.seed, static_cast<std::uint64_t>(epoch) + 1, index);
    images.push_back(apply_transforms(image, options_.transform, random));
    labels.push_back(split_.samples[index].label);
  }
  const std::int64_t size = options_.transform.image_size;
  return {{keys::images, images.empty() ? at::empty({0, 3, size, size}) : at::stack(images)},
          {keys::labels, at::tensor(labels, at::kLong)}};
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
      result.batch = make_batch(epoch, batch);
    } catch (...) {
      result.error = std::current_exception();
    }
    lock.lock();
    if (epoch == epoch_) ready_[batch] = std::move(result);
    changed_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (epoch_ < 0) throw Error("data", "Loader::next() before start_epoch()");
  if (next_to_return_ >= batches_per_epoch()) return std::nullopt;
  const std::int64_t batch = next_to_return_;
  Result result;
  if (workers_.empty()) {  // no workers: do the work here
    const std::int64_t epoch = epoch_;
    lock.unlock();
    result.batch = make_batch(epoch, batch);
    lock.lock();
  } else {
    changed_.wait(lock, [&] { return ready_.count(batch) != 0; });
    result = std::move(ready_.at(batch));
    ready_.erase(batch);
  }
  ++next_to_return_;
  changed_.notify_all();
  if (result.error) std::rethrow_exception(result.error);
  return std::move(result.batch);
}

}  // namespace peft::data
