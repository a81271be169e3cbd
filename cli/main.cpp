// `peft`: turns every error into its exit code. User errors (peft::Error) print one line and exit 1; anything else
// is a bug in peft or a plugin and exits 2.
#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "peft/error.h"

int main(int argc, char** argv) {
  using namespace peft::cli;
  try {
    return run_command_line(argc, argv);
  } catch (const peft::Error& e) {
    std::cerr << "peft: error: " << e.what() << '\n';
    return kUserError;
  } catch (const std::exception& e) {
    std::cerr << "peft: internal error: " << e.what() << '\n';
    return kInternalError;
  } catch (...) {
    std::cerr << "peft: internal error: unknown exception\n";
    return kInternalError;
  }
}
