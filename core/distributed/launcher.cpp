#include "distributed/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed/communicator.h"
#include "peft/error.h"
#include "process_pool.h"
#include "scratch_folder.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

volatile std::sig_atomic_t pending_signal = 0;

extern "C" void remember_signal(int signal) { pending_signal = signal; }

// The environment of rank `rank`: this process's, with the world's variables replaced.
std::vector<std::string> worker_environment(int rank, int nproc, int port) {
  const std::vector<std::pair<std::string, std::string>> world{{"RANK", std::to_string(rank)},
                                                               {"LOCAL_RANK", std::to_string(rank)},
                                                               {"GROUP_RANK", "0"},
                                                               {"WORLD_SIZE", std::to_string(nproc)},
                                                               {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
                                                               {"MASTER_ADDR", "127.0.0.1"},
                                                               {"MASTER_PORT", std::to_string(port)},
                                                               {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                               {"TORCHELASTIC_RESTART_COUNT", "0"},
                                                               {"PEFT_LAUNCHED", "1"}};
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [key, _] : world) replaced = replaced || key == name;
    if (!replaced) environment.push_back(text);
  }
  for (const auto& [key, value] : world) environment.push_back(key + "=" + value);
  return environment;
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  fs::path log;  // empty: rank 0, on this terminal
  std::optional<int> status;
  /// Still running 10 s after the launcher asked it to stop: a rank that hung.
  bool unresponsive = false;
};

pid_t start_worker(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                   const fs::path& log) {
  int log_fd = -1;
  if (!log.empty()) {
    log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) throw Error("distributed", "cannot write " + log.string() + ": " + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& argument : argv) args.push_back(const_cast<char*>(argument.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& entry : environment) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec. Its own process group, so that a Ctrl-C reaches it once, from the
    // launcher; and it ends when the launcher does.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execve(args[0], args.data(), env.data());
    const char message[] = "peft: cannot execute a worker\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  if (pid < 0) throw Error("distributed", std::string("cannot start a worker: ") + std::strerror(errno));
  return pid;
}

std::string how_it_ended(const Worker& worker) {
  const int status = *worker.status;
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return "was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  }
  const std::string line = worker.log.empty() ? std::string() : last_line(worker.log);
  const std::string prefix = "peft: error: ";
  if (line.rfind(prefix, 0) == 0) return "failed: " + line.substr(prefix.size());
  return "exited with code " + std::to_string(exit_code_of(status)) + (line.empty() ? "" : ": " + line);
}

}  // namespace

int launch_local_workers(int nproc, const std::vector<std::string>& argv, const std::string& resume_hint) {
  check_distributed_available();
  // The agent's store, on a port the system picks: workers are its clients (TORCHELASTIC_USE_AGENT_STORE).
  c10d::TCPStoreOptions options;
  options.port = 0;
  options.isServer = true;
  options.waitWorkers = false;
  const c10d::TCPStore store("127.0.0.1", options);
  const int port = store.getPort();

  struct sigaction action = {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int = {}, old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  // The workers' logs; removed unless a failed worker's is named in the error.
  ScratchFolder logs("peft-ranks", "distributed");
  std::vector<Worker> workers(static_cast<std::size_t>(nproc));
  for (int rank = 0; rank < nproc; ++rank) {
    Worker& worker = workers[static_cast<std::size_t>(rank)];
    worker.rank = rank;
    if (rank > 0) worker.log = logs.path() / ("rank" + std::to_string(rank) + ".log");
    worker.pid = start_worker(argv, worker_environment(rank, nproc, port), worker.log);
  }
  std::vector<const Worker*> failures;  // in the order they ended
  bool ended = false;                   // the launcher asked the rest to stop
  auto deadline = std::chrono::steady_clock::time_point::max();
  std::size_t running = workers.size();
  while (running > 0) {
    if (pending_signal != 0) {
      const int signal = pending_signal;
      pending_signal = 0;
      for (const Worker& worker : workers) {
        if (!worker.status) ::kill(worker.pid, signal);
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (Worker& worker : workers) {
        if (worker.status) continue;
        ::kill(worker.pid, SIGKILL);
        worker.unresponsive = true;
      }
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno != EINTR) break;
    if (pid <= 0) {
      ::usleep(20'000);
      continue;
    }
    for (Worker& worker : workers) {
      if (worker.pid != pid) continue;
      worker.status = status;
      --running;
      const int code = exit_code_of(status);
      // A failure of its own: not success, not an interrupt, not a lost peer, not the launcher stopping it.
      const bool stopped_by_us = ended && (code == 128 + SIGTERM || code == 128 + SIGKILL);
      if (code != 0 && code != 130 && code != kPeerLostExitCode && !stopped_by_us) failures.push_back(&worker);
      if (code != 0 && code != 130 && !ended) {
        ended = true;
        for (const Worker& other : workers) {
          if (!other.status) ::kill(other.pid, SIGTERM);
        }
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      }
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  bool interrupted = false;
  bool lost_peer = false;
  for (const Worker& worker : workers) {
    interrupted = interrupted || exit_code_of(*worker.status) == 130;
    lost_peer = lost_peer || exit_code_of(*worker.status) == kPeerLostExitCode;
  }
  // A failed rank's output is kept, and named, when it has any.
  const auto error = [&](const Worker& worker, const std::string& how) {
    std::error_code none;
    const bool output = !worker.log.empty() && fs::file_size(worker.log, none) > 0;
    if (output) logs.keep();
    return Error("distributed", "rank " + std::to_string(worker.rank) + " of " + std::to_string(nproc) + " " + how +
                                    (output ? " (its output: " + worker.log.string() + ")" : "") +
                                    "; the other ranks were stopped; " + resume_hint);
  };
  if (failures.empty()) {
    if (!lost_peer) return interrupted ? 130 : 0;
    // The others lost it; it neither answered them nor ended when asked.
    for (const Worker& worker : workers) {
      if (worker.unresponsive) {
        throw error(worker,
                    "stopped responding: the others timed out waiting for it ([train] distributed_timeout) "
                    "and it did not end on SIGTERM");
      }
    }
    for (const Worker& worker : workers) {
      if (exit_code_of(*worker.status) == kPeerLostExitCode) {
        throw error(worker, "lost its peers: a collective failed or timed out");
      }
    }
  }
  // The root cause: a rank killed by a signal (it could say nothing); else rank 0, which has written its own one-line
  // error to this terminal; else the first to fail.
  const Worker* cause = failures.front();
  for (const Worker* worker : failures) {
    if (WIFSIGNALED(*worker->status)) {
      cause = worker;
      break;
    }
    if (worker->rank == 0) cause = worker;
  }
  if (cause->rank == 0 && exit_code_of(*cause->status) == 1) return 1;
  throw error(*cause, how_it_ended(*cause));
}

}  // namespace peft
