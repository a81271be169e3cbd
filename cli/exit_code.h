#pragma once

namespace peft::cli {

/// The exit codes of `peft`: scripts rely on them.
enum ExitCode : int {
  kSuccess = 0,
  kUserError = 1,      ///< bad input; a one-line message says what and where
  kInternalError = 2,  ///< a bug in peft or a plugin; please report it
  kInterrupted = 130,  ///< Ctrl-C (SIGINT) or SIGTERM stopped training after writing a checkpoint (128 + SIGINT)
};

}  // namespace peft::cli
