#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <functional>

#include "peft/backbone.h"
#include "peft/batch.h"
#include "peft/error.h"
#include "support/token_backbone.h"

namespace {

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a batch keeps its names in order, replaces by name and counts its examples") {
  peft::Batch batch{{peft::keys::images, at::zeros({4, 3, 2, 2})}, {peft::keys::labels, at::zeros({4}, at::kLong)}};
  CATCH_CHECK(batch.names() == std::vector<std::string>{"images", "labels"});
  CATCH_CHECK(batch.size() == 4);
  batch.set(peft::keys::images, at::ones({4, 3, 2, 2}));
  CATCH_CHECK(batch.names() == std::vector<std::string>{"images", "labels"});
  CATCH_CHECK(batch.at(peft::keys::images).sum().item<float>() == 48.0f);
  CATCH_CHECK_FALSE(batch.has(peft::keys::input_ids));
  CATCH_CHECK_FALSE(batch.get(peft::keys::input_ids).defined());
  batch.erase(peft::keys::images);
  CATCH_CHECK(batch.names() == std::vector<std::string>{"labels"});
  const peft::Batch moved = batch.to(at::kCPU);
  CATCH_CHECK(moved.at(peft::keys::labels).sizes() == at::IntArrayRef({4}));
  CATCH_CHECK(peft::Batch().size() == 0);
}

CATCH_TEST_CASE("reading a name a batch or outputs lack names it and what there is") {
  const peft::Batch batch{{peft::keys::images, at::zeros({1})}, {peft::keys::labels, at::zeros({1})}};
  CATCH_CHECK(message_of([&] { batch.at(peft::keys::input_ids); }) ==
              "[data] no 'input_ids' in the batch (present: images, labels)");
  const peft::Outputs outputs{{peft::keys::logits, at::zeros({1})}};
  CATCH_CHECK(message_of([&] { outputs.at(peft::keys::hidden); }) ==
              "[backbone] no 'hidden' in the backbone's outputs (present: logits)");
  CATCH_CHECK(message_of([&] { peft::Batch().at(peft::keys::labels); }) ==
              "[data] no 'labels' in the batch (present: nothing)");
}

CATCH_TEST_CASE("a backbone without a capability says so when something needs it") {
  peft::test::TokenBackbone backbone;
  CATCH_CHECK(backbone.image_input() == nullptr);
  CATCH_CHECK(backbone.classifier() == nullptr);
  CATCH_CHECK(backbone.taps() == nullptr);
  CATCH_CHECK(message_of([&] { peft::require_image_input(backbone, "vpt"); }) ==
              "[vpt] needs a backbone that reads images, got backbone '" + backbone.name() +
                  "', which reads input_ids, attention_mask");
  CATCH_CHECK(message_of([&] { peft::require_classifier(backbone, "image_classification"); }) ==
              "[image_classification] needs a backbone with a classification head, got backbone '" + backbone.name() +
                  "' without one");
  const peft::Batch batch{{peft::keys::input_ids, at::arange(6).view({2, 3}) % 4}};
  CATCH_CHECK(backbone.logits(batch).sizes() == at::IntArrayRef({2, 3, 4}));
}
