#include "data/worker_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace peft::data {

void use_one_thread_here() {
  // ATen sets a thread's OpenMP team size from the global count the first time that thread runs a parallel kernel;
  // do that now, then lower this thread's own setting (OpenMP keeps it per thread). The first-time flag is a
  // thread_local in an inline function, of which libtorch_cpu has its own copy when built with hidden inline
  // symbols (the torch 2.x wheel): calling the inline function here would set peft's copy only, and LibTorch's
  // first kernel in this thread would then raise the team back. at::get_num_threads() runs LibTorch's own. The
  // OpenMP function is taken from the runtime LibTorch itself loaded, so peft neither compiles with OpenMP nor
  // brings a second runtime; a LibTorch without OpenMP has none, and then there is no team to limit.
  static_cast<void>(at::get_num_threads());
  using SetThreads = void (*)(int);
  static const auto set_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set_threads != nullptr) set_threads(1);
}

}  // namespace peft::data
