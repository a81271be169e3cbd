#include <catch2/catch.hpp>

#include "support/run_command.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::run_command;
using peft::test::TempFolder;

CATCH_TEST_CASE("peft data mini-vtab writes the benchmark and prints its splits") {
  TempFolder folder;
  const auto result = run_command("'" PEFT_EXECUTABLE "' data mini-vtab --out '" + (folder / "mv").string() +
                                  "' --seed 3 --pretrain-images 50 --test-images 20");
  CATCH_REQUIRE(result.exit_code == 0);
  CATCH_CHECK_THAT(result.out, Catch::Contains("pretrain  5        train 50, test 5000"));
  CATCH_CHECK_THAT(result.out,
                   Catch::Contains("location  9        train800 800, val200 200, train800val200 1000, test 20"));
  CATCH_CHECK_THAT(result.out, Catch::Contains("(seed 3)"));
  CATCH_CHECK(fs::exists(folder / "mv/count/train800val200.txt"));
  CATCH_CHECK(fs::exists(folder / "mv/inverted/dataset.toml"));
}

CATCH_TEST_CASE("peft data errors are one line with exit 1") {
  TempFolder folder;
  const auto missing = run_command("'" PEFT_EXECUTABLE "' data mini-vtab --out '" + (folder / "mv").string() +
                                   "' --source '" + (folder / "nothing").string() + "'");
  CATCH_CHECK(missing.exit_code == 1);
  CATCH_CHECK_THAT(missing.err, Catch::StartsWith("peft: error: [mini-vtab] no train-images-idx3-ubyte[.gz] in ") &&
                                    Catch::Contains("install dataset-fashion-mnist"));
  CATCH_CHECK(std::count(missing.err.begin(), missing.err.end(), '\n') == 1);
  const auto no_out = run_command("'" PEFT_EXECUTABLE "' data mini-vtab");
  CATCH_CHECK(no_out.exit_code == 1);
  CATCH_CHECK_THAT(no_out.err, Catch::Contains("--out is required"));
  CATCH_CHECK(run_command("'" PEFT_EXECUTABLE "' data").exit_code == 1);
}
