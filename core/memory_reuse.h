#pragma once
// How a peft process keeps the memory it frees: training allocates and frees the same large activation buffers every
// step, and glibc by default hands buffers of 128 KiB and more back to the kernel (munmap, heap trimming), so every
// step page-faults them in again. On the 2-core VM that was most of a ViT-Mini LoRA step's time, and its variation
// (0.46 s a step kept, 1.3 to 1.8 s returned; bench/RESULTS.md).

namespace peft {

/// Keeps freed memory in the process for reuse: glibc's mmap threshold at 1 GiB (only larger blocks are mapped and
/// unmapped; at glibc's dynamic maximum of 32 MiB an LLM's logits and their gradients, 65 MiB each for 2 × 255
/// tokens of a 32k vocabulary, were faulted in again every step: a llama LoRA step took 0.65 s instead of 0.56 s)
/// and no heap trimming below 2 GiB free. A setting the user gave in the environment
/// (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) is left as given; nothing happens without glibc. Call once, first
/// thing in main().
void keep_freed_memory();

}  // namespace peft
