// `peft report`: PNG plots and an HTML page for a run folder or a folder of runs.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "report.h"
#include "support/run_command.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"
#include "text_format.h"

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
  // One run's legend names it (not "."), and counts carry thousands separators.
  CATCH_CHECK_THAT(read(page.parent_path() / "curves.gp"), Catch::Contains("title \"lora (test)\""));
  const std::int64_t trainable =
      nlohmann::json::parse(read(folder / "runs" / "lora" / "summary.json"))["trainable_parameters"]["total"];
  CATCH_REQUIRE(trainable >= 1000);
  CATCH_CHECK_THAT(read(page), Catch::Contains("<td>" + peft::with_thousands(trainable) + "</td>"));

  // A folder of runs: both runs in the table, one colour per method, and the report of a run inside is not a run.
  const auto both = run_peft("report " + quoted(folder / "runs") + " -o " + quoted(folder / "both"));
  CATCH_REQUIRE(both.exit_code == 0);
  CATCH_CHECK_THAT(both.out, Catch::Contains("report of 2 runs"));
  CATCH_CHECK(is_png(folder / "both" / "accuracy_vs_parameters.png"));
  CATCH_CHECK_THAT(read(folder / "both" / "accuracy_vs_parameters.gp"),
                   Catch::Contains("\"tiny [test] (bitfit)\"") && Catch::Contains("\"tiny [test] (lora)\""));
  CATCH_CHECK_THAT(read(folder / "both" / "index.html"), Catch::Contains("bitfit") && Catch::Contains("lora"));

  const auto empty = run_peft("report " + quoted(folder / "task"));
  CATCH_CHECK(empty.exit_code == 1);
  CATCH_CHECK_THAT(empty.err, Catch::Contains("no run folders") && Catch::Contains("task"));
}

CATCH_TEST_CASE("a sweep's results.md is shown as HTML: its table as a table, bold as bold") {
  const std::string html = peft::markdown_html(
      "# Sweep of x.toml\n\nTuned on a.\n\n| configuration | seeds |\n|---|---|\n| train.lr=0.1 **(selected)** | 2 "
      "|\n\n**test top-1: 80.00 %** over 1 seed.\n");
  CATCH_CHECK(html ==
              "<h3>Sweep of x.toml</h3>\n<p>Tuned on a.</p>\n<table>\n<tr><th>configuration</th><th>seeds</th></tr>\n"
              "<tr><td>train.lr=0.1 <b>(selected)</b></td><td>2</td></tr>\n</table>\n"
              "<p><b>test top-1: 80.00 %</b> over 1 seed.</p>\n");
}
