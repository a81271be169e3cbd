#include "peft/site.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>

namespace {

// y += x Aᵀ Bᵀ: a LoRA-shaped output term.
struct OutputTerm final : peft::SiteAdapter {
  at::Tensor a, b;
  OutputTerm(at::Tensor a_, at::Tensor b_) : a(std::move(a_)), b(std::move(b_)) {}
  at::Tensor output_delta(const at::Tensor& input) override { return input.matmul(a.t()).matmul(b.t()); }
};

// W += ΔW: a GIFT-shaped weight residual.
struct WeightTerm final : peft::SiteAdapter {
  at::Tensor delta;
  explicit WeightTerm(at::Tensor delta_) : delta(std::move(delta_)) {}
  at::Tensor weight_delta(const at::Tensor&) override { return delta; }
};

}  // namespace

CATCH_TEST_CASE("a site without adapters is a Linear layer with timm-style parameter names") {
  at::manual_seed(0);
  peft::Site site("blocks.0.attn.proj", 6, 4);
  CATCH_CHECK(site->site_name() == "blocks.0.attn.proj");
  CATCH_CHECK(site->in_features() == 6);
  CATCH_CHECK(site->out_features() == 4);
  CATCH_CHECK(site->has_bias());
  const auto parameters = site->named_parameters();
  CATCH_CHECK(parameters.contains("weight"));
  CATCH_CHECK(parameters.contains("bias"));
  const at::Tensor x = at::randn({3, 5, 6});
  CATCH_CHECK(at::allclose(site(x), at::linear(x, site->weight, site->bias)));
  CATCH_CHECK_FALSE(peft::Site("no_bias", 6, 4, false)->has_bias());
}

CATCH_TEST_CASE("attached adapters add output terms and weight residuals; detaching restores the layer") {
  at::manual_seed(0);
  peft::Site site("fc", 6, 4);
  const at::Tensor x = at::randn({3, 6});
  const at::Tensor base = site(x).detach();

  auto output_term = std::make_shared<OutputTerm>(at::randn({2, 6}), at::randn({4, 2}));
  auto weight_term = std::make_shared<WeightTerm>(at::randn({4, 6}));
  site->attach(output_term);
  site->attach(weight_term);
  CATCH_CHECK(site->adapters().size() == 2);
  const at::Tensor expected = at::linear(x, site->weight + weight_term->delta, site->bias) +
                              x.matmul(output_term->a.t()).matmul(output_term->b.t());
  CATCH_CHECK(at::allclose(site(x), expected, 1e-5, 1e-6));

  CATCH_CHECK(site->detach(output_term.get()));
  CATCH_CHECK(site->detach(weight_term.get()));
  CATCH_CHECK_FALSE(site->detach(weight_term.get()));
  CATCH_CHECK(at::equal(site(x), base));
}

CATCH_TEST_CASE("gradients flow to the adapter's tensors through the site") {
  at::manual_seed(0);
  peft::Site site("fc", 3, 2);
  auto weight_term = std::make_shared<WeightTerm>(at::zeros({2, 3}).requires_grad_());
  site->attach(weight_term);
  site(at::ones({1, 3})).sum().backward();
  CATCH_REQUIRE(weight_term->delta.grad().defined());
  CATCH_CHECK(at::equal(weight_term->delta.grad(), at::ones({2, 3})));
}
