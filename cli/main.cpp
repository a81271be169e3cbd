// `peft`: turns every error into its exit code. User errors (peft::Error) print one line and exit 1; anything else
// is a bug in peft or a plugin and exits 2; training stopped by Ctrl-C exits 130 after writing its checkpoint.
#include <csignal>
#include <filesystem>
#include <iostream>

#include "command.h"
#include "distributed/communicator.h"
#include "distributed/launcher.h"
#include "distributed/world.h"
#include "exit_code.h"
#include "memory_reuse.h"
#include "peft/error.h"
#include "train/interrupt.h"

int main(int argc, char** argv) {
  using namespace peft::cli;
  peft::keep_freed_memory();
  // Writing past a file size limit (ulimit -f) then fails with EFBIG, reported like a full disk, instead of killing
  // peft half-way through a file.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return run_command_line(argc, argv);
  } catch (const peft::Interrupted& e) {
    std::cerr << "\npeft: " << e.what() << '\n';
    return kInterrupted;
  } catch (const peft::CollectiveError& e) {
    // Under `peft run --nproc` the launcher names the rank that failed first; this one only lost it.
    if (peft::world_from_environment().launched) return peft::kPeerLostExitCode;
    std::cerr << "peft: error: " << e.what() << '\n';
    return kUserError;
  } catch (const peft::Error& e) {
    std::cerr << "peft: error: " << e.what() << '\n';
    return kUserError;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or a file that cannot be read here (read-only, permissions, full): the
    // machine's state, which the user can fix; the message names the path and the reason.
    std::cerr << "peft: error: [files] " << e.what() << '\n';
    return kUserError;
  } catch (const std::exception& e) {
    std::cerr << "peft: internal error: " << e.what() << '\n';
    return kInternalError;
  } catch (...) {
    std::cerr << "peft: internal error: unknown exception\n";
    return kInternalError;
  }
}
