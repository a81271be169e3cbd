#pragma once
// Ctrl-C during training: the first SIGINT (or SIGTERM) asks the trainer to stop after the current step, write a
// checkpoint there and throw Interrupted; `peft run --resume` then continues from that step with exactly the numbers
// of an uninterrupted run. A second signal, or one before training starts, ends the process at once (the last
// checkpoint on disk stays complete).

#include <string>

#include "peft/error.h"

namespace peft {

/// Training stopped on a signal, after writing its checkpoint. `peft` prints it and exits with 130.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message) : Error("interrupted", message) {}
};

/// Installs the SIGINT/SIGTERM handlers (idempotent). Outside an InterruptScope a signal ends the process at once:
/// nothing would act on a request while a model is built or data is read.
void install_interrupt_handlers();

/// While one is alive (training, a sweep waiting on its trials), the first signal only asks to stop.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

/// Whether a signal asked training to stop.
bool interrupt_requested();

/// Forgets a request (tests).
void clear_interrupt();

}  // namespace peft
