#include "process_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "peft/error.h"

namespace peft {
namespace {

pid_t start_child(const ChildCommand& command) {
  std::filesystem::create_directories(command.log.parent_path());
  const int log = ::open(command.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) throw Error("process", "cannot write " + command.log.string() + ": " + std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& argument : command.argv) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // In the child only async-signal-safe calls until exec.
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    const char message[] = "peft: cannot execute a child command\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(log);
  if (pid < 0) throw Error("process", std::string("cannot start a child process: ") + std::strerror(errno));
  return pid;
}

}  // namespace

std::vector<ChildResult> run_children(const std::vector<ChildCommand>& commands, std::size_t jobs,
                                      const std::function<void(std::size_t)>& on_start,
                                      const std::function<void(std::size_t, const ChildResult&)>& on_finish,
                                      const std::function<bool()>& stop) {
  std::vector<ChildResult> results(commands.size(), ChildResult{-1});
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  bool failed = false;
  bool stopping = false;
  while (next < commands.size() || !running.empty()) {
    if (!stopping && stop()) {
      stopping = failed = true;
      for (const auto& [pid, index] : running) ::kill(pid, SIGINT);
    }
    while (!failed && next < commands.size() && running.size() < std::max<std::size_t>(1, jobs)) {
      running[start_child(commands[next])] = next;
      on_start(next);
      ++next;
    }
    if (running.empty()) break;
    int status = 0;
    // Polled, so that a stop request that lands between the check above and the wait is seen within 50 ms.
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error("process", std::string("waiting for the trials failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::usleep(50'000);
      continue;
    }
    const auto found = running.find(pid);
    if (found == running.end()) continue;
    const std::size_t index = found->second;
    running.erase(found);
    results[index].exit_code = exit_code_of(status);
    if (results[index].exit_code != 0) failed = true;
    on_finish(index, results[index]);
  }
  return results;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string last_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    // A progress line redraws itself with '\r'; keep what the terminal would show last.
    const auto cr = line.rfind('\r');
    if (cr != std::string::npos && cr + 1 < line.size()) line = line.substr(cr + 1);
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

}  // namespace peft
