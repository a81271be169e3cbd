#include "data/worker_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace peft::data {

void use_one_thread_here() {
  // ATen sets a thread's OpenMP team size from the global count the first time that thread runs a parallel kernel;
  // do that now, then lower this thread's own setting (OpenMP keeps it per thread). The function is taken from the
  // OpenMP runtime LibTorch itself loaded, so peft neither compiles with OpenMP nor brings a second runtime; a
  // LibTorch without OpenMP has none, and then there is no team to limit.
  at::internal::lazy_init_num_threads();
  using SetThreads = void (*)(int);
  static const auto set_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set_threads != nullptr) set_threads(1);
}

}  // namespace peft::data
