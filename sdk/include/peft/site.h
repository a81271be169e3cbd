#pragma once
/// \file
/// Sites: the adaptable Linear layers of a backbone.
///
/// A backbone builds each adaptable layer as a Site with a stable timm-style name (`blocks.3.attn.proj`), and
/// every forward through that layer goes through it. Methods never replace modules; they attach adapters to
/// sites:
///
///     struct Scale final : peft::SiteAdapter {
///       torch::Tensor output_delta(const torch::Tensor& input) override { return input.matmul(a).matmul(b); }
///     };
///     site->attach(std::make_shared<Scale>());   // y = x Wᵀ + b + Σ output_delta(x)

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

#include "peft/api.h"

namespace peft {

/// x Wᵀ + b, as at::linear, except that a single row (one token while generating) on the CPU is a matrix-vector
/// product: in float32 with nothing to differentiate, peft's own kernel (2.9x MKL's on a 32000 × 512 head, two threads,
/// on an AMD EPYC, whose one-row GEMM and GEMV both run single-threaded at a quarter of memory bandwidth:
/// docs/kernels.md), otherwise at::mv. Sites use it; a backbone's own matmuls with a weight (a tied LM head) should
/// too.
PEFT_API torch::Tensor linear(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias = {});

/// What one adapter contributes to a site. Every hook defaults to none (an undefined tensor), so an adapter
/// overrides only what it needs. The site computes, with x its input, W its weight and b its bias:
///
///     x' = input_of(x)                                  (IA3 on a feed-forward layer: x ⊙ l)
///     y  = x' (W + Σ weight_delta(W))ᵀ + b + Σ output_delta(x')
///     y  = output_of(x', y)                             (IA3: y ⊙ l; DoRA: rescale by magnitude / column norm)
///
/// each hook applied by every attached adapter in attach order. Merging such an adapter is still a new weight and
/// bias, written by the method's `merge`.
class PEFT_API SiteAdapter {
 public:
  SiteAdapter() = default;
  SiteAdapter(const SiteAdapter&) = delete;
  SiteAdapter& operator=(const SiteAdapter&) = delete;
  virtual ~SiteAdapter();

  /// Added to the weight before the matmul (GIFT's generated residual ΔW), shape [out, in].
  virtual torch::Tensor weight_delta(const torch::Tensor& weight);
  /// Added to the output (LoRA's s · x Aᵀ Bᵀ), shape [..., out].
  virtual torch::Tensor output_delta(const torch::Tensor& input);
  /// The input the layer computes with instead of `input`, shape [..., in].
  virtual torch::Tensor input_of(const torch::Tensor& input);
  /// The site's output instead of `output` (the layer's, with every additive term), given the input the layer
  /// computed with; shape [..., out].
  virtual torch::Tensor output_of(const torch::Tensor& input, const torch::Tensor& output);
};

/// A Linear layer that adapters can attach to: y = x (W + Σ ΔW)ᵀ + b + Σ output_delta(x), with the input and
/// output hooks of SiteAdapter around it.
class PEFT_API SiteImpl : public torch::nn::Module {
 public:
  /// Registers `weight` [out, in] and, when `with_bias`, `bias` [out], initialised as torch::nn::Linear does.
  SiteImpl(std::string name, std::int64_t in_features, std::int64_t out_features, bool with_bias = true);

  torch::Tensor forward(const torch::Tensor& input);

  /// The stable name, e.g. `blocks.3.attn.proj`; its parameters are `<name>.weight` and `<name>.bias`.
  const std::string& site_name() const { return site_name_; }
  std::int64_t in_features() const { return weight.size(1); }
  std::int64_t out_features() const { return weight.size(0); }
  bool has_bias() const { return bias.defined(); }

  void attach(std::shared_ptr<SiteAdapter> adapter);
  /// Removes `adapter`; false when it was not attached.
  bool detach(const SiteAdapter* adapter);
  const std::vector<std::shared_ptr<SiteAdapter>>& adapters() const { return adapters_; }

  torch::Tensor weight;
  torch::Tensor bias;

 private:
  std::string site_name_;
  std::vector<std::shared_ptr<SiteAdapter>> adapters_;
};

/// The handle to a site, shared like a std::shared_ptr: backbones, methods and the host all hold the same layer.
/// Unlike torch::nn's module holders it gives the layer through a const handle too, so that
/// `for (const Site& site : sites) site->attach(adapter)` works: constness is the handle's, not the layer's.
class Site : public torch::nn::ModuleHolder<SiteImpl> {
 public:
  using torch::nn::ModuleHolder<SiteImpl>::ModuleHolder;
  using Impl = SiteImpl;

  SiteImpl* operator->() const { return ptr().get(); }
  SiteImpl& operator*() const { return *ptr(); }
  SiteImpl* get() const { return ptr().get(); }
};

}  // namespace peft
