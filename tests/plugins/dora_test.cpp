// DoRA as Hugging Face peft's LoraConfig(use_dora=True) computes it: y = b + m / ‖W + s·B A‖ ⊙ (x (W + s·B A)ᵀ),
// row norms detached (the DoRA paper's §4.3), m starting at ‖W‖'s rows. A hand-computed case and the gradient.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "contract/mlp_backbone.h"
#include "peft/method.h"
#include "peft/site.h"
#include "support/builtin_plugins.h"

namespace {

std::shared_ptr<peft::Method> make_dora() {
  const auto& entry = peft::test::builtin_registry().methods().at("dora");
  return entry.create(
      peft::resolve_options(entry.options, {{"r", std::int64_t{1}}, {"lora_alpha", 1.0}}, "test [method.options]"));
}

}  // namespace

CATCH_TEST_CASE("dora rescales W + s B A row by row to a trained magnitude, as Hugging Face peft's use_dora") {
  auto method = make_dora();
  peft::contract::MlpBackbone unused;
  peft::Site site("fc", 2, 2);
  {
    at::NoGradGuard no_grad;
    site->weight.copy_(at::tensor({3.0f, 4.0f, 0.0f, 1.0f}).view({2, 2}));
    site->bias.copy_(at::tensor({1.0f, -1.0f}));
  }
  method->attach(unused, {site});
  const auto tensors = method->trainable_tensors();
  CATCH_REQUIRE(tensors.size() == 3);
  CATCH_CHECK(tensors[0].name == "fc.lora_A.weight");
  CATCH_CHECK(tensors[1].name == "fc.lora_B.weight");
  CATCH_CHECK(tensors[2].name == "fc.lora_magnitude_vector");           // peft's key, shape [out]
  CATCH_CHECK(at::equal(tensors[2].tensor, at::tensor({5.0f, 1.0f})));  // ‖[3, 4]‖, ‖[0, 1]‖
  const at::Tensor a = tensors[0].tensor;
  const at::Tensor b = tensors[1].tensor;
  const at::Tensor m = tensors[2].tensor;
  const at::Tensor x = at::tensor({1.0f, 1.0f}).view({1, 2});
  {
    at::NoGradGuard no_grad;
    CATCH_CHECK(at::equal(site->forward(x), at::tensor({8.0f, 0.0f}).view({1, 2})));  // starts as the layer
    a.copy_(at::tensor({1.0f, 0.0f}).view({1, 2}));
    b.copy_(at::tensor({1.0f, 0.0f}).view({2, 1}));
    // W + B A = [[4, 4], [0, 1]], row norms [√32, 1]; x (W + B A)ᵀ = [8, 1]; ⊙ m / norm = [5√2, 1]; + b.
    CATCH_CHECK(at::allclose(site->forward(x), at::tensor({1.0f + 5.0f * std::sqrt(2.0f), 0.0f}).view({1, 2})));
  }

  // The norm is detached: B's gradient is that of m / stop_gradient(‖W + B A‖) ⊙ x (W + B A)ᵀ.
  for (const auto& t : tensors) t.tensor.set_requires_grad(true);
  site->forward(x).sum().backward();
  const at::Tensor b_leaf = b.detach().clone().set_requires_grad(true);
  const at::Tensor updated = site->weight + b_leaf.matmul(a.detach());
  const at::Tensor norm = updated.norm(2, {1}).detach();
  ((m.detach() / norm) * x.matmul(updated.t()) + site->bias).sum().backward();
  CATCH_CHECK(at::allclose(b.grad(), b_leaf.grad()));
  for (const auto& t : tensors) t.tensor.set_requires_grad(false);

  // Merged: W becomes m / ‖W + B A‖ ⊙ (W + B A); the same outputs; unmerge restores W exactly.
  at::NoGradGuard no_grad;
  method->merge();
  const float r = 5.0f / std::sqrt(32.0f);
  CATCH_CHECK(at::allclose(site->weight, at::tensor({4 * r, 4 * r, 0.0f, 1.0f}).view({2, 2})));
  CATCH_CHECK(at::allclose(site->forward(x), at::tensor({1.0f + 5.0f * std::sqrt(2.0f), 0.0f}).view({1, 2})));
  method->unmerge();
  CATCH_CHECK(at::equal(site->weight, at::tensor({3.0f, 4.0f, 0.0f, 1.0f}).view({2, 2})));

  // Hugging Face peft's LoraConfig with use_dora; not a plain low-rank product, so peft export refuses it.
  const auto config = nlohmann::json::parse(method->adapter_config_json());
  CATCH_CHECK(config["peft_type"] == "LORA");
  CATCH_CHECK(config["use_dora"] == true);
  CATCH_CHECK(method->low_rank_deltas().empty());
}
