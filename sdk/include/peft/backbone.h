#pragma once
/// \file
/// The interface a backbone plugin implements (ViT, ...): a torch module that reads named inputs from a batch and
/// returns named outputs, with optional capabilities for what only some models have.
///
///     std::vector<std::string> inputs() const override { return {peft::keys::images}; }
///     peft::Outputs forward(const peft::Batch& batch) override {
///       const at::Tensor hidden = encode(batch.at(peft::keys::images));
///       return {{peft::keys::hidden, hidden}, {peft::keys::logits, head(pool(hidden))}};
///     }
///
/// Capabilities, each nullptr unless the backbone has it: `image_input()` (how images must be prepared),
/// `classifier()` (a classification head that can be resized or removed), `taps()` (transformer hooks for VPT and
/// TOAST), `tokenizer()` (text ↔ token ids, for a text backbone).

#include <torch/nn/module.h>

#include <array>
#include <string>
#include <vector>

#include "peft/api.h"
#include "peft/batch.h"
#include "peft/checkpoint_source.h"
#include "peft/fwd.h"
#include "peft/named_tensors.h"
#include "peft/site.h"
#include "peft/taps.h"
#include "peft/tokenizer.h"

namespace peft {

/// How images must be prepared for a backbone (timm's pretrained config).
struct Preprocessing {
  std::int64_t image_size = 224;
  std::array<double, 3> mean{0.5, 0.5, 0.5};
  std::array<double, 3> std{0.5, 0.5, 0.5};
  /// "bilinear" or "bicubic".
  std::string interpolation = "bicubic";
  /// Evaluation crop fraction (timm's crop_pct): images are resized to floor(image_size / crop_pct), then cropped.
  double crop_pct = 0.875;
};

/// Capability of a backbone that reads `images` [B, C, H, W].
class PEFT_API ImageInput {
 public:
  ImageInput() = default;
  ImageInput(const ImageInput&) = delete;
  ImageInput& operator=(const ImageInput&) = delete;
  virtual ~ImageInput();

  virtual Preprocessing preprocessing() const = 0;
};

/// Capability of a backbone whose `logits` come from a classification head over a pooled representation.
class PEFT_API ClassifierHead {
 public:
  ClassifierHead() = default;
  ClassifierHead(const ClassifierHead&) = delete;
  ClassifierHead& operator=(const ClassifierHead&) = delete;
  virtual ~ClassifierHead();

  /// Classes the head predicts (0: no head, the logits are the pooled features).
  virtual std::int64_t num_classes() const = 0;
  /// Replaces the head with a freshly initialised one for `num_classes` (0: no head).
  virtual void reset_classifier(std::int64_t num_classes) = 0;
};

/// Capability of a causal language model that decodes incrementally: a generation step passes the tensors
/// `allocate_cache` made in its batch, with `keys::cache_position` (a scalar: tokens already in the cache), and
/// the backbone reads the cached keys and values, writes the new tokens' in place, and returns only their logits. So
/// a step costs one token's forward, and methods that wrap forward (GIFT) need nothing special.
class PEFT_API CausalLm {
 public:
  CausalLm() = default;
  CausalLm(const CausalLm&) = delete;
  CausalLm& operator=(const CausalLm&) = delete;
  virtual ~CausalLm();

  /// The cache for `sequences` sequences of up to `length` tokens, as named tensors to add to each step's batch.
  virtual Batch allocate_cache(std::int64_t sequences, std::int64_t length, const at::TensorOptions& options) = 0;
  /// The longest sequence the model takes (max_position_embeddings).
  virtual std::int64_t max_length() const = 0;
};

/// A pretrained model that methods adapt, made by its plugin's factory from the recipe's `[backbone]` options.
///
/// Parameter names follow the checkpoints the backbone reads (timm's `blocks.0.attn.qkv.weight`), so those load as
/// they are.
/// What a site computes in a transformer block. A method states its default targets by role (IA3: the attention's
/// keys and values and the MLP's output) and each backbone says which of its sites play it, so the same method
/// finds `attn.qkv` on a timm ViT and `self_attn.k_proj` on a LLaMA.
enum class SiteRole { attention_query, attention_key, attention_value, attention_output, mlp_input, mlp_output };

class PEFT_API Backbone : public torch::nn::Module {
 public:
  ~Backbone() override;

  /// The batch entries `forward` reads (`images`; `input_ids`, `attention_mask`). A task whose batches lack one is
  /// refused before training starts.
  virtual std::vector<std::string> inputs() const = 0;
  /// The batch → `logits`, and `hidden` (the tokens after the final norm) where the backbone has them.
  virtual Outputs forward(const Batch& batch) = 0;

  /// The output head's parameters by name (`head.weight`, `head.bias`; an LM head's `lm_head.weight`); empty without
  /// one. Whether they train is the task's and the method's call.
  virtual NamedTensors head_parameters() { return {}; }
  /// Names of parameters that take no weight decay when they train (timm's `no_weight_decay()`: position
  /// embeddings, class token).
  virtual std::vector<std::string> no_weight_decay() const { return {}; }

  /// Every adaptable layer, in forward order.
  virtual std::vector<Site> sites() = 0;
  /// Target patterns (as `[method] targets`: trailing name segments) of the sites that play `role`: a fused
  /// projection plays each role it holds (timm's `attn.qkv` is query, key and value). Default: none, for a backbone
  /// that is no transformer or does not say; a method then falls back to its own choice.
  virtual std::vector<std::string> role_patterns(SiteRole role) const;

  /// Loads `checkpoint` (the backbone's key names): one safetensors file or a folder of shards, read tensor by
  /// tensor (`load_state_dict(*this, checkpoint)` does it strictly; a small model may `read_all()`). Throws
  /// peft::Error listing every missing, unexpected and mis-shaped key at once. Returns notices for the user, e.g.
  /// that a head of another size was dropped.
  virtual std::vector<std::string> load_checkpoint(const CheckpointSource& checkpoint) = 0;

  /// The capabilities; nullptr when the backbone does not have it.
  virtual ImageInput* image_input() { return nullptr; }
  virtual ClassifierHead* classifier() { return nullptr; }
  virtual TransformerTaps* taps() { return nullptr; }
  /// A text backbone's tokenizer (its checkpoint folder's); a peft::Error when the folder has one the backbone
  /// cannot read.
  virtual const Tokenizer* tokenizer() { return nullptr; }
  virtual CausalLm* causal_lm() { return nullptr; }

  /// `forward`'s logits.
  at::Tensor logits(const Batch& batch) { return forward(batch).at(keys::logits); }
};

/// The patterns of every role in `roles` on `backbone`, each once, in the order the roles give them.
PEFT_API std::vector<std::string> role_patterns(const Backbone& backbone, const std::vector<SiteRole>& roles);

/// The capability of `backbone`, or a peft::Error saying that `component` needs it ("[vpt] needs a backbone that
/// reads images, got backbone ... which reads input_ids, attention_mask").
PEFT_API ImageInput& require_image_input(Backbone& backbone, const std::string& component);
PEFT_API ClassifierHead& require_classifier(Backbone& backbone, const std::string& component);

}  // namespace peft
