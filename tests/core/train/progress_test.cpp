#include "train/progress.h"

#include <catch2/catch.hpp>
#include <sstream>

CATCH_TEST_CASE("the live progress line is cut to the terminal's width, so it redraws instead of wrapping") {
  std::ostringstream out;
  {
    peft::Progress progress(out, true, 34);
    progress.step({1, 20, 5, 125, 1.2345, 9.375e-3, 321.0, 3725.0});
  }
  const std::string text = out.str();
  CATCH_CHECK(text == "\r\033[Kepoch 1/20  step 5/125  ETA 1h02m\n");  // 33 visible characters, then the final newline
  std::ostringstream wide;
  {
    peft::Progress progress(wide, true, 0);  // width unknown: the whole line
    progress.step({1, 20, 125, 125, 1.2345, 9.5e-3, 321.0, 3725.0});
  }
  CATCH_CHECK(wide.str() == "\r\033[Kepoch 1/20  step 125/125  ETA 1h02m  loss 1.2345  lr 9.50e-03  321 img/s\n");
}

CATCH_TEST_CASE("progress status lines (evaluation) show on a terminal only, and messages end the live line") {
  std::ostringstream terminal;
  {
    peft::Progress progress(terminal, true, 80);
    progress.status("evaluating test  batch 1/32", true);
    progress.message("epoch 1/2  train loss 0.5000");
  }
  CATCH_CHECK(terminal.str() == "\r\033[Kevaluating test  batch 1/32\r\033[Kepoch 1/2  train loss 0.5000\n");
  std::ostringstream log;
  {
    peft::Progress progress(log, false, 80);
    progress.status("evaluating test  batch 1/32", true);
    progress.message("done");
  }
  CATCH_CHECK(log.str() == "done\n");
}
