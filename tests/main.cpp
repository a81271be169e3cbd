// The test runner: every test runs with one LibTorch thread, so results and timings do not depend on the machine.
#include <ATen/Parallel.h>

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  at::set_num_threads(1);
  return Catch::Session().run(argc, argv);
}
