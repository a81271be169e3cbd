// Our optimizers against LibTorch's own on the same tensors: the same update rules, step by step.
#include "train/optimizer.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <catch2/catch.hpp>

namespace {

struct Problem {
  std::vector<peft::TrainableTensor> ours;
  std::vector<torch::Tensor> theirs_decay;
  std::vector<torch::Tensor> theirs_no_decay;
};

// A weight (decays), a bias (1-D: never decays) and an embedding marked decay = false.
Problem problem() {
  torch::manual_seed(3);
  const std::vector<torch::Tensor> start{torch::randn({4, 3}), torch::randn({4}), torch::randn({1, 2, 3})};
  Problem p;
  const std::vector<std::string> names{"w", "b", "pos"};
  for (std::size_t i = 0; i < start.size(); ++i) {
    p.ours.push_back({names[i], start[i].clone().requires_grad_(), i != 2});
  }
  p.theirs_decay.push_back(start[0].clone().requires_grad_());
  p.theirs_no_decay.push_back(start[1].clone().requires_grad_());
  p.theirs_no_decay.push_back(start[2].clone().requires_grad_());
  return p;
}

// The same loss on both copies; LibTorch's optimizer `step`s, ours steps with `lr`.
template <class TorchOptimizer>
void compare(peft::Optimizer& ours, TorchOptimizer& theirs, Problem& p, double lr) {
  const auto loss = [](const std::vector<torch::Tensor>& t) {
    return (t[0].sum(1).pow(2).sum() + t[1].sin().sum() + t[2].pow(3).sum());
  };
  for (int step = 0; step < 5; ++step) {
    ours.zero_grad();
    loss({p.ours[0].tensor, p.ours[1].tensor, p.ours[2].tensor}).backward();
    ours.step(lr);
    theirs.zero_grad();
    loss({p.theirs_decay[0], p.theirs_no_decay[0], p.theirs_no_decay[1]}).backward();
    theirs.step();
  }
  CATCH_CHECK(torch::allclose(p.ours[0].tensor, p.theirs_decay[0], 1e-6, 1e-7));
  CATCH_CHECK(torch::allclose(p.ours[1].tensor, p.theirs_no_decay[0], 1e-6, 1e-7));
  CATCH_CHECK(torch::allclose(p.ours[2].tensor, p.theirs_no_decay[1], 1e-6, 1e-7));
}

}  // namespace

CATCH_TEST_CASE("AdamW matches LibTorch's, with decay only on weights of two or more dimensions") {
  Problem p = problem();
  peft::TrainOptions options;
  options.optimizer = "adamw";
  options.weight_decay = 0.05;
  peft::Optimizer ours(options, p.ours);
  CATCH_CHECK(ours.decayed_count() == 12);
  CATCH_CHECK(ours.undecayed_count() == 10);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(p.theirs_decay, std::make_unique<torch::optim::AdamWOptions>(
                                          torch::optim::AdamWOptions(0.01).weight_decay(0.05)));
  groups.emplace_back(p.theirs_no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(0.01).weight_decay(0.0)));
  torch::optim::AdamW theirs(std::move(groups), torch::optim::AdamWOptions(0.01));
  compare(ours, theirs, p, 0.01);
}

CATCH_TEST_CASE("SGD with momentum matches LibTorch's") {
  Problem p = problem();
  peft::TrainOptions options;
  options.optimizer = "sgd";
  options.weight_decay = 1e-3;
  options.momentum = 0.9;
  peft::Optimizer ours(options, p.ours);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(p.theirs_decay, std::make_unique<torch::optim::SGDOptions>(
                                          torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3)));
  groups.emplace_back(p.theirs_no_decay,
                      std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(0.05).momentum(0.9)));
  torch::optim::SGD theirs(std::move(groups), torch::optim::SGDOptions(0.05));
  compare(ours, theirs, p, 0.05);
}

CATCH_TEST_CASE("an optimizer's state saves by name and restores into a fresh one") {
  Problem p = problem();
  peft::TrainOptions options;
  peft::Optimizer first(options, p.ours);
  p.ours[0].tensor.sum().backward();
  first.step(0.1);
  peft::Optimizer second(options, p.ours);
  second.load_state(first.state(), "test");
  CATCH_CHECK(second.steps() == 1);
  CATCH_CHECK(torch::equal(second.state()[1].second, first.state()[1].second));
  CATCH_CHECK_THROWS_WITH(
      second.load_state({}, "ckpt.safetensors"),
      Catch::Contains("ckpt.safetensors") && Catch::Contains("the optimizer state does not fit: missing keys: step"));
}
