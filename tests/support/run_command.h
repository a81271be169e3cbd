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

/// Whether one line of `text` matches `pattern` whole (std::regex, ECMAScript). Line by line on purpose: a regex
/// like `(.|\n)*` over a whole output recurses once a character in libstdc++ and overflows the stack under ASan.
bool has_line(const std::string& text, const std::string& pattern);

/// Checks (Catch) that `result` is a user error: exit code 1 and one error line, the last on stderr (progress lines
/// may come before it), containing `expected`.
void check_user_error(const CommandResult& result, const std::string& expected);

/// `path` in single quotes, for a command line.
std::string quoted(const std::filesystem::path& path);

}  // namespace peft::test
