#pragma once
// LibTorch's errors as peft reports them: one line, without the C++ backtrace LibTorch appends, and an allocation
// that cannot be had said as what it is.

#include <c10/util/Exception.h>

#include <cstdint>
#include <optional>
#include <string>

namespace peft {

/// The first line of `error` without LibTorch's backtrace or its "[enforce fail at ...] condition." prefix.
std::string torch_reason(const c10::Error& error);

/// The bytes a failed allocation asked for ("DefaultCPUAllocator: can't allocate memory: you tried to allocate N
/// bytes", CUDA's "Tried to allocate ..."), or nothing for any other error.
std::optional<std::uint64_t> failed_allocation_bytes(const c10::Error& error);

/// "8192000000000000 bytes (7.3 PiB)": a byte count a person can read.
std::string bytes_text(std::uint64_t bytes);

/// The one-line peft::Error from `component` for an allocation of `bytes` that failed while `doing`: "`doing` asked
/// for N bytes at once, more than this machine can allocate (hint: `hint`)".
[[noreturn]] void throw_allocation_failure(const std::string& component, const std::string& doing, std::uint64_t bytes,
                                           const std::string& hint);

/// Runs `work`; a failed allocation inside it becomes throw_allocation_failure's error. Other LibTorch errors pass
/// unchanged.
template <class Work>
auto with_allocation_reported(const std::string& component, const std::string& doing, const std::string& hint,
                              Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const c10::Error& e) {
    if (const auto bytes = failed_allocation_bytes(e)) throw_allocation_failure(component, doing, *bytes, hint);
    throw;
  }
}

}  // namespace peft
