#include "train/lr_schedule.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace {

peft::TrainOptions options() {
  peft::TrainOptions o;
  o.epochs = 10;
  o.lr = 1e-3;
  o.warmup_epochs = 2;
  o.warmup_lr = 1e-6;
  o.min_lr = 1e-5;
  return o;
}

}  // namespace

CATCH_TEST_CASE("the schedule warms up linearly, then follows timm's cosine over the whole run to min_lr") {
  const peft::LrSchedule schedule(options(), 7);
  const double pi = std::acos(-1.0);
  CATCH_CHECK(schedule.lr(0, 0) == Approx(1e-6));
  CATCH_CHECK(schedule.lr(1, 9) == Approx(1e-6 + (1e-3 - 1e-6) / 2));
  // timm (warmup_prefix off): t counts from the start of the run, not from the end of the warm-up.
  CATCH_CHECK(schedule.lr(2, 14) == Approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::cos(pi * 2 / 10))));
  CATCH_CHECK(schedule.lr(9, 63) == Approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::cos(pi * 9 / 10))));
  // Within an epoch the rate does not change (schedule_step = "epoch").
  CATCH_CHECK(schedule.lr(5, 35) == schedule.lr(5, 40));
}

CATCH_TEST_CASE("with schedule_step = step the rate changes every step, warm-up measured in steps") {
  auto o = options();
  o.schedule_step = "step";
  const peft::LrSchedule schedule(o, 10);  // 100 steps, 20 of warm-up
  CATCH_CHECK(schedule.lr(0, 0) == Approx(1e-6));
  CATCH_CHECK(schedule.lr(0, 5) == Approx(1e-6 + 5 * (1e-3 - 1e-6) / 20));
  CATCH_CHECK(schedule.lr(5, 50) == Approx(1e-5 + 0.5 * (1e-3 - 1e-5)));
  CATCH_CHECK(schedule.lr(5, 51) < schedule.lr(5, 50));
}

CATCH_TEST_CASE("a constant schedule holds lr after the warm-up") {
  auto o = options();
  o.schedule = "constant";
  const peft::LrSchedule schedule(o, 3);
  CATCH_CHECK(schedule.lr(1, 3) == Approx(1e-6 + (1e-3 - 1e-6) / 2));
  CATCH_CHECK(schedule.lr(2, 6) == 1e-3);
  CATCH_CHECK(schedule.lr(9, 29) == 1e-3);
}
