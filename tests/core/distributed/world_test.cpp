// Which GPU each process of a data-parallel run takes (the CLI tests cover the environment variables themselves).
#include "distributed/world.h"

#include <catch2/catch.hpp>

#include "peft/error.h"

namespace {

peft::World world_of(int rank, int size, int local_rank, int local_size) {
  peft::World world;
  world.rank = rank;
  world.size = size;
  world.local_rank = local_rank;
  world.local_size = local_size;
  return world;
}

}  // namespace

CATCH_TEST_CASE("each process of a data-parallel run takes the GPU of its local rank") {
  // Rank 5 of 8 on two machines of four: the second process on its machine.
  const peft::World second = world_of(5, 8, 1, 4);
  CATCH_CHECK(peft::device_of_rank(second, "cuda", 4) == "cuda:1");
  CATCH_CHECK(peft::device_of_rank(second, "auto", 4) == "cuda:1");
  CATCH_CHECK(peft::device_of_rank(world_of(3, 4, 3, 4), "cuda", 8) == "cuda:3");
  // What the recipe names exactly stays, and so does a machine without CUDA.
  CATCH_CHECK(peft::device_of_rank(second, "cuda:0", 4) == "cuda:0");
  CATCH_CHECK(peft::device_of_rank(second, "cpu", 4) == "cpu");
  CATCH_CHECK(peft::device_of_rank(second, "auto", 0) == "auto");
  CATCH_CHECK(peft::device_of_rank(second, "cuda", 0) == "cuda");
  // One visible GPU (srun's per-task binding): every process's own is cuda:0.
  CATCH_CHECK(peft::device_of_rank(second, "cuda", 1) == "cuda:0");
  // A single process keeps the recipe's device.
  CATCH_CHECK(peft::device_of_rank(world_of(0, 1, 0, 1), "cuda", 4) == "cuda");
}

CATCH_TEST_CASE("more processes on a machine than its GPUs is an error naming both counts") {
  try {
    peft::device_of_rank(world_of(2, 3, 2, 3), "cuda", 2);
    CATCH_FAIL("no error");
  } catch (const peft::Error& e) {
    CATCH_CHECK(std::string(e.what()).find("3 processes on this machine but 2 CUDA devices") != std::string::npos);
  }
}
