#include "train/training_progress.h"

#include <catch2/catch.hpp>

#include "peft/error.h"

CATCH_TEST_CASE("training progress reads back exactly from its checkpoint fields, running metric sums included") {
  peft::TrainingProgress progress;
  progress.epoch = 3;
  progress.global_step = 41;
  progress.step_in_epoch = 5;
  progress.epoch_tally.add("loss", 1.0 / 3.0, 40.0);
  progress.epoch_tally.add("top1", 17.0, 40.0);
  progress.best_value = 0.1 + 0.2;
  progress.best_epoch = 2;
  progress.last_train_loss = 2.0 / 7.0;
  progress.train_seconds = 12.345678901234567;
  const peft::TrainingProgress back = peft::progress_from_fields(peft::progress_fields(progress), "test");
  CATCH_CHECK(back.epoch == 3);
  CATCH_CHECK(back.global_step == 41);
  CATCH_CHECK(back.step_in_epoch == 5);
  CATCH_CHECK(back.epoch_tally.sums().at("loss").sum == 1.0 / 3.0);
  CATCH_CHECK(back.epoch_tally.sums().at("loss").weight == 40.0);
  CATCH_CHECK(back.epoch_tally.mean("top1") == 17.0 / 40.0);
  CATCH_CHECK(*back.best_value == 0.1 + 0.2);
  CATCH_CHECK(back.best_epoch == 2);
  CATCH_CHECK(back.last_train_loss == 2.0 / 7.0);
  CATCH_CHECK(back.train_seconds == 12.345678901234567);

  peft::TrainingProgress fresh;
  CATCH_CHECK_FALSE(peft::progress_from_fields(peft::progress_fields(fresh), "test").best_value.has_value());
}

CATCH_TEST_CASE("a checkpoint written before tasks resumes with image classification's running sums") {
  const std::map<std::string, std::string> old{
      {"epoch", "1"},         {"global_step", "9"},       {"best_top1", "0.5"},   {"best_epoch", "1"},
      {"train_seconds", "2"}, {"last_train_loss", "1.5"}, {"step_in_epoch", "3"}, {"epoch_loss_sum", "12"},
      {"epoch_correct", "7"}, {"epoch_images", "24"}};
  const peft::TrainingProgress progress = peft::progress_from_fields(old, "old.safetensors");
  CATCH_CHECK(*progress.best_value == 0.5);
  CATCH_CHECK(progress.epoch_tally.mean("loss") == 0.5);
  CATCH_CHECK(progress.epoch_tally.mean("top1") == 7.0 / 24.0);
  CATCH_CHECK_THROWS_WITH(peft::progress_from_fields({{"epoch", "1"}}, "bad.safetensors"),
                          "[checkpoint] bad.safetensors: metadata 'global_step' is missing");
  std::map<std::string, std::string> garbled = old;
  garbled["epoch"] = "x";
  CATCH_CHECK_THROWS_WITH(peft::progress_from_fields(garbled, "bad.safetensors"),
                          "[checkpoint] bad.safetensors: unreadable progress metadata");
}
