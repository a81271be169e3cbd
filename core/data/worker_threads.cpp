#include "data/worker_threads.h"

#include <ATen/Parallel.h>
#include <omp.h>

namespace peft::data {

void use_one_thread_here() {
  // ATen sets a thread's OpenMP team size from the global count the first time that thread runs a parallel kernel;
  // do that now, then lower this thread's own setting (OpenMP keeps it per thread).
  at::internal::lazy_init_num_threads();
  omp_set_num_threads(1);
}

}  // namespace peft::data
