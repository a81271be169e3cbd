#include "train/interrupt.h"

#include <csignal>

namespace peft {
namespace {

volatile std::sig_atomic_t requested = 0;
volatile std::sig_atomic_t scopes = 0;  // InterruptScopes alive

extern "C" void on_signal(int signal) {
  if (scopes == 0 || requested != 0) {  // nobody to act on it, or the second one: stop now
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  requested = 1;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action = {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

InterruptScope::InterruptScope() { scopes = scopes + 1; }

InterruptScope::~InterruptScope() { scopes = scopes - 1; }

bool interrupt_requested() { return requested != 0; }

void clear_interrupt() { requested = 0; }

}  // namespace peft
