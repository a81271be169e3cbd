#pragma once
// Runs commands as child processes, at most N at a time (`peft sweep --jobs N`). Each child's stdout and stderr go
// to its own log file; the children are plain `peft run` invocations, so a trial run this way is the same run a
// user or a SLURM task would start by hand.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace peft {

struct ChildCommand {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  std::filesystem::path log;
};

struct ChildResult {
  /// The exit status, or 128 + the signal that ended it.
  int exit_code = 0;
};

/// Runs every command, at most `jobs` at once, in order of the list; `on_start(i)` and `on_finish(i, result)` are
/// called from this thread. After a child fails no new command starts; the running ones are waited for. Once
/// `stop()` is true (checked whenever a signal or a child's end wakes this thread) no new command starts and the
/// running ones get SIGINT. Returns one result per command (a command never started has exit code -1).
std::vector<ChildResult> run_children(
    const std::vector<ChildCommand>& commands, std::size_t jobs, const std::function<void(std::size_t)>& on_start,
    const std::function<void(std::size_t, const ChildResult&)>& on_finish,
    const std::function<bool()>& stop = [] { return false; });

/// A wait status as a shell reports it: the exit status, or 128 + the signal that ended the process.
int exit_code_of(int status);

/// The last non-empty line of a text file ("" when it has none), for one-line error messages.
std::string last_line(const std::filesystem::path& file);

}  // namespace peft
