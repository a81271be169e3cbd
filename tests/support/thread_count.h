#pragma once
// Sets LibTorch's intra-op thread count for a test's scope and restores the one before (tests run with one thread:
// tests/main.cpp), also when the test throws.

#include <ATen/Parallel.h>

namespace peft::test {

struct ThreadCount {
  int before = at::get_num_threads();
  explicit ThreadCount(int threads) { at::set_num_threads(threads); }
  ~ThreadCount() { at::set_num_threads(before); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;
};

}  // namespace peft::test
