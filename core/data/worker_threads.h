#pragma once
// The thread budget of a loader worker.

namespace peft::data {

/// Makes the calling thread's own tensor work (decoding, transforms, stacking a batch) single-threaded: without it
/// each loader worker that runs an ATen kernel above the parallel grain (a 224-pixel image) starts an OpenMP team as
/// large as the training's, and those teams compete with the training threads for their cores. Other threads keep
/// the count at::set_num_threads gave.
void use_one_thread_here();

}  // namespace peft::data
