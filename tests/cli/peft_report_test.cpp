// `peft report`: PNG plots and an HTML page for a run folder or a folder of runs.
#include <catch2/catch.hpp>
#include <fstream>

#include "support/run_command.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_peft;
using peft::test::TempFolder;

namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool is_png(const fs::path& file) {
  return read(file).rfind("\x89PNG\r\n\x1a\n", 0) == 0 && fs::file_size(file) > 1000;
}

}  // namespace

CATCH_TEST_CASE("peft report draws a run's curves and a folder's accuracy against parameters, with a summary page") {
  TempFolder folder;
  peft::test::write_tiny_task(folder / "task", 6, 3);
  const fs::path recipe = folder / "recipe.toml";
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", "lora", "epochs = 2\neval_every = 1\n"));
  for (const char* method : {"lora", "bitfit"}) {
    const auto run = run_peft("run " + quoted(recipe) + " --set method.plugin=" + method + " --out " +
                              quoted(folder / "runs" / method));
    CATCH_REQUIRE(run.exit_code == 0);
  }

  const auto one = run_peft("report " + quoted(folder / "runs" / "lora"));
  CATCH_REQUIRE(one.exit_code == 0);
  const fs::path page = folder / "runs" / "lora" / "report" / "index.html";
  CATCH_CHECK(is_png(page.parent_path() / "curves.png"));
  CATCH_CHECK_FALSE(fs::exists(page.parent_path() / "accuracy_vs_parameters.png"));  // one run: no scatter
  CATCH_CHECK_THAT(read(page), Catch::Contains("<td>lora</td>") && Catch::Contains("curves.png"));

  // A folder of runs: both runs in the table, one colour per method, and the report of a run inside is not a run.
  const auto both = run_peft("report " + quoted(folder / "runs") + " -o " + quoted(folder / "both"));
  CATCH_REQUIRE(both.exit_code == 0);
  CATCH_CHECK_THAT(both.out, Catch::Contains("report of 2 runs"));
  CATCH_CHECK(is_png(folder / "both" / "accuracy_vs_parameters.png"));
  CATCH_CHECK_THAT(read(folder / "both" / "accuracy_vs_parameters.gp"),
                   Catch::Contains("\"tiny (bitfit)\"") && Catch::Contains("\"tiny (lora)\""));
  CATCH_CHECK_THAT(read(folder / "both" / "index.html"), Catch::Contains("bitfit") && Catch::Contains("lora"));

  const auto empty = run_peft("report " + quoted(folder / "task"));
  CATCH_CHECK(empty.exit_code == 1);
  CATCH_CHECK_THAT(empty.err, Catch::Contains("no run folders") && Catch::Contains("task"));
}
