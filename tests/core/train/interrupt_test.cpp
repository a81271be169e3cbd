// When a signal only asks training to stop and when it ends the process, checked in forked children.
#include "train/interrupt.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

namespace {

// The wait status of a child that runs `body` (which ends it with _exit or a signal).
template <class Body>
int status_of_child(Body body) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

CATCH_TEST_CASE("a signal before training ends the process at once; during training the first one asks to stop") {
  const int before = status_of_child([] {
    peft::install_interrupt_handlers();
    std::raise(SIGTERM);
    _exit(3);
  });
  CATCH_CHECK(WIFSIGNALED(before));
  CATCH_CHECK(WTERMSIG(before) == SIGTERM);

  const int during = status_of_child([] {
    peft::install_interrupt_handlers();
    {
      const peft::InterruptScope training;
      std::raise(SIGINT);
      if (!peft::interrupt_requested()) _exit(4);
    }
    _exit(5);
  });
  CATCH_CHECK(WIFEXITED(during));
  CATCH_CHECK(WEXITSTATUS(during) == 5);

  const int twice = status_of_child([] {
    peft::install_interrupt_handlers();
    const peft::InterruptScope training;
    std::raise(SIGINT);
    std::raise(SIGINT);
    _exit(6);
  });
  CATCH_CHECK(WIFSIGNALED(twice));
  CATCH_CHECK(WTERMSIG(twice) == SIGINT);
}
