#pragma once

namespace peft::cli {

/// The exit codes of `peft`: scripts rely on them.
enum ExitCode : int {
  kSuccess = 0,
  kUserError = 1,      ///< bad input; a one-line message says what and where
  kInternalError = 2,  ///< a bug in peft or a plugin; please report it
};

}  // namespace peft::cli
