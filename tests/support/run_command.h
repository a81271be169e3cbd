#pragma once

#include <string>

namespace peft::test {

/// What a finished process printed and returned.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `command_line` through /bin/sh and waits for it; stdout and stderr are captured apart.
CommandResult run_command(const std::string& command_line);

}  // namespace peft::test
