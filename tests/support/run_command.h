#pragma once

#include <filesystem>
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

/// Runs the `peft` this build made with `arguments` (already quoted for the shell), with PEFT_PLUGIN_PATH empty.
CommandResult run_peft(const std::string& arguments);

/// `path` in single quotes, for a command line.
std::string quoted(const std::filesystem::path& path);

}  // namespace peft::test
