#pragma once
/// \file
/// The interface a method plugin implements (LoRA, GIFT, BitFit, ...).
///
/// The host builds the backbone, selects the sites the recipe's `targets` name, and hands both to `attach`. From
/// then on it trains exactly the tensors `trainable_tensors` returns (plus the backbone's head when `trains_head`),
/// calls `forward` for the outputs of each batch, and saves `adapter_state` as the adapter file:
///
///     class Scale final : public peft::Method {
///      public:
///       void attach(peft::Backbone&, const std::vector<peft::Site>& sites) override { ... }
///       std::vector<peft::TrainableTensor> trainable_tensors() override { return {{"scale", scale_}}; }
///     };
///
/// Header cost matters: this includes only `<ATen/core/Tensor.h>` and `peft/batch.h`; implementations include
/// `peft/backbone.h`.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "peft/api.h"
#include "peft/batch.h"
#include "peft/fwd.h"
#include "peft/named_tensors.h"

namespace peft {

/// One tensor a method trains.
struct TrainableTensor {
  /// Unique and stable: the tensor's key in adapter files (`blocks.0.attn.qkv.lora_A.weight`). Tensors of the
  /// backbone keep the backbone's name (`blocks.0.attn.qkv.bias`).
  std::string name;
  at::Tensor tensor;
  /// False exempts the tensor from weight decay (position embeddings, GIFT's cluster embeddings). Biases and other
  /// 1-D tensors never decay, whatever this says.
  bool decay = true;
};

/// One site's adapter as a low-rank product: the site's weight becomes W + B A, with B [out, r] and A [r, in], and
/// nothing else changes (no bias term, no input or output scaling).
struct LowRankDelta {
  std::string site;
  at::Tensor b;
  at::Tensor a;
};

/// A parameter-efficient fine-tuning method, made fresh for each run by its plugin's factory from the recipe's
/// `[method.options]`.
class PEFT_API Method {
 public:
  Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;
  virtual ~Method();

  /// The target patterns used when the recipe's `[method]` names none, on `backbone`; empty (the default): every
  /// site. State them by role where the method's paper does (`role_patterns(backbone, {SiteRole::attention_output})`)
  /// rather than by one backbone's names, which match nothing on another.
  virtual std::vector<std::string> default_targets(const Backbone& backbone) const;

  /// Creates the method's adapters on `sites` (those the recipe selected, in forward order) and any method-level
  /// modules, on the device and dtype of the backbone. Called once, after the backbone's checkpoint is loaded (so
  /// an initialisation from the pretrained weights, as DoRA's magnitude or GIFT's generator input, sees them) and
  /// before an adapter file or a training checkpoint is loaded into the method. The backbone outlives the method.
  virtual void attach(Backbone& backbone, const std::vector<Site>& sites) = 0;

  /// The tensors this method trains. The host freezes everything else and sets `requires_grad` on these.
  virtual std::vector<TrainableTensor> trainable_tensors() = 0;

  /// Whether the method adapts sites at all. A method that does not (the linear probe) gets no sites, whatever the
  /// recipe's targets, and `peft inspect` and `peft run` say it trains the head only.
  virtual bool uses_sites() const { return true; }

  /// Whether the backbone's classifier head trains too (true for every classification method here).
  virtual bool trains_head() const { return true; }

  /// Whether the adapted model equals the backbone before training (LoRA: B = 0). VPT's prompts do not.
  virtual bool starts_at_backbone() const { return true; }

  /// Whether the method needs the backbone's transformer taps (VPT, TOAST); `attach` then fails on a backbone
  /// without them, and the contract suite expects exactly that.
  virtual bool needs_taps() const { return false; }

  /// Backbone forward passes per prediction (TOAST: 2), as reported in summaries.
  virtual std::int64_t forward_passes() const { return 1; }

  /// Training or evaluation mode. Default: the backbone follows (its dropout and drop-path run in training).
  virtual void train(Backbone& backbone, bool training);

  /// The adapted model's outputs for `batch` (`logits`, and what else the backbone returns). Default:
  /// `backbone.forward(batch)` (the sites apply the adapters).
  virtual Outputs forward(Backbone& backbone, const Batch& batch);

  /// A loss term the last `forward` adds to the task loss, or an undefined tensor (the default).
  virtual at::Tensor extra_loss();

  /// Empty when `merge` works; else why the method cannot be merged into the backbone's weights.
  virtual std::string merge_refusal() const;
  /// Folds the adapters into the backbone's weights, after which they contribute nothing; `unmerge` undoes it.
  /// Default: throws peft::Error with `merge_refusal()`.
  virtual void merge();
  virtual void unmerge();

  /// The tensors of an adapter file. Default: the trainable tensors by name.
  virtual NamedTensors adapter_state();
  /// Loads what `adapter_state` saved. Default: copies each tensor into the trainable tensor of that name; a missing,
  /// unexpected or mis-shaped name is a peft::Error naming `source`.
  virtual void load_adapter_state(const NamedTensors& state, const std::string& source);

  /// The explain capability (`peft explain`): for each site it can explain, by site name, a matrix C [d_out, K]
  /// whose K columns are directions in that site's output space (GIFT, both schemas: the reduction's output W Pᵀ,
  /// as the official visualiser). Maps are the site's outputs over the patch tokens times C. Default: none.
  virtual NamedTensors explain_matrices();

  /// The low-rank capability (`peft export`, which writes them as a Hugging Face peft LoRA adapter): the trained
  /// adapters of every site as exact low-rank factors, in float32 (LoRA: s·B and A; GIFT: the generated G and Qᵀ).
  /// Default: none (the method's change is not such a product: `peft merge` is the way out for it).
  virtual std::vector<LowRankDelta> low_rank_deltas();

  /// The JSON object written as `adapter_config.json` beside the adapter tensors: the method's own keys
  /// (peft::JsonObject builds it, `json_object.h`). The host writes `method` (its name) and `options` (the resolved
  /// `[method.options]`) before them unless the method wrote those keys itself. Default: `{}`, so the file holds the
  /// name and options alone. A Hugging Face peft config (one with `peft_type`, as LoRA writes with
  /// `lora_config.h`) is written as it is, with the keys the host knows from the run filled in.
  virtual std::string adapter_config_json() const;
};

}  // namespace peft
