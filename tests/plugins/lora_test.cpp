// LoRA as Hu et al. and Hugging Face peft define it: y = x Wᵀ + b + s · x Aᵀ Bᵀ, s = alpha / r (or alpha / √r).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "adapted_model.h"
#include "peft/site.h"
#include "support/builtin_plugins.h"
#include "contract/mlp_backbone.h"

namespace {

peft::AdaptedModel lora_on_fc1(const std::map<std::string, peft::OptionValue>& options) {
  peft::MethodSection section;
  section.plugin = "lora";
  section.context = "test [method]";
  section.targets = {"fc1"};
  section.options = options;
  return peft::adapt(peft::test::builtin_registry(), std::make_shared<peft::contract::MlpBackbone>(), section);
}

at::Tensor tensor_named(peft::AdaptedModel& model, const std::string& name) {
  for (const auto& t : model.trainable) {
    if (t.name == name) return t.tensor;
  }
  throw std::runtime_error("no trainable tensor " + name);
}

// fc1's output with the adapter, against the formula computed here.
void check_formula(peft::AdaptedModel& model, double scale) {
  peft::Site fc1 = model.backbone->sites()[0];
  at::Tensor a = tensor_named(model, "fc1.lora_A.weight");
  at::Tensor b = tensor_named(model, "fc1.lora_B.weight");
  {
    at::NoGradGuard no_grad;
    b.normal_();  // B starts at zero; give it values so the branch shows
  }
  at::NoGradGuard no_grad;
  const at::Tensor x = at::randn({5, 12});
  const at::Tensor expected = x.matmul(fc1->weight.t()) + fc1->bias + scale * x.matmul(a.t()).matmul(b.t());
  CATCH_CHECK(at::allclose(fc1->forward(x), expected, 1e-5, 1e-6));
}

}  // namespace

CATCH_TEST_CASE("lora adds s * x A^T B^T with s = alpha / r, A initialised as a Linear weight and B at zero") {
  at::manual_seed(0);
  auto model = lora_on_fc1({{"r", std::int64_t{2}}, {"lora_alpha", 4.0}});
  const at::Tensor a = tensor_named(model, "fc1.lora_A.weight");
  const at::Tensor b = tensor_named(model, "fc1.lora_B.weight");
  CATCH_CHECK(a.sizes() == at::IntArrayRef({2, 12}));  // [r, in]
  CATCH_CHECK(b.sizes() == at::IntArrayRef({16, 2}));  // [out, r]
  CATCH_CHECK(b.abs().max().item<float>() == 0.0f);
  // kaiming-uniform with a = √5 is uniform(±1/√in), as torch.nn.Linear (and so peft's lora_A) initialises.
  CATCH_CHECK(a.abs().max().item<double>() <= 1.0 / std::sqrt(12.0));
  CATCH_CHECK(a.abs().max().item<double>() > 0.5 / std::sqrt(12.0));
  check_formula(model, 2.0);
}

CATCH_TEST_CASE("lora with use_rslora scales by alpha / sqrt(r)") {
  auto model = lora_on_fc1({{"r", std::int64_t{4}}, {"lora_alpha", 4.0}, {"use_rslora", true}});
  check_formula(model, 2.0);
}

CATCH_TEST_CASE("lora options out of range name the key") {
  CATCH_CHECK_THROWS_WITH(lora_on_fc1({{"r", std::int64_t{0}}}), Catch::Contains("r = 0, expected an integer >= 1"));
  CATCH_CHECK_THROWS_WITH(lora_on_fc1({{"lora_dropout", 1.0}}),
                          Catch::Contains("lora_dropout") && Catch::Contains("[0, 1)"));
}
