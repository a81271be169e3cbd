#pragma once
/// \file
/// Transformer taps: the points inside a transformer backbone that methods such as VPT and TOAST reach into.
///
/// A backbone that offers them returns itself from Backbone::taps(); a method asks with require_taps(), which
/// fails with a clear message on a backbone without them:
///
///     peft::TransformerTaps& taps = peft::require_taps(backbone, "vpt");
///     taps.hooks().block_input = [&](std::int64_t block, const torch::Tensor& tokens) { return with_prompts(tokens);
///     };

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "peft/api.h"
#include "peft/fwd.h"

namespace peft {

/// Hooks a method sets on a transformer; an empty hook leaves that point untouched. Hooks run inside forward.
struct TransformerHooks {
  /// Block `index`'s input tokens [B, N, D] → the tokens the block processes (VPT inserts prompt tokens).
  std::function<at::Tensor(std::int64_t index, const at::Tensor& tokens)> block_input;
  /// A token term td [B, N, D] for block `index`, or an undefined tensor: the block adds V(td) to its attention
  /// values, V being its own frozen value projection, bias included (TOAST's top-down signal).
  std::function<at::Tensor(std::int64_t index)> value_input;
  /// Sees each block's input and output tokens (TOAST's variational loss).
  std::function<void(std::int64_t index, const at::Tensor& input, const at::Tensor& output)> block_output;
};

/// The shape of a transformer and its hooks.
class PEFT_API TransformerTaps {
 public:
  TransformerTaps() = default;
  TransformerTaps(const TransformerTaps&) = delete;
  TransformerTaps& operator=(const TransformerTaps&) = delete;
  virtual ~TransformerTaps();

  virtual std::int64_t num_blocks() const = 0;
  virtual std::int64_t embed_dim() const = 0;
  /// Tokens before the patch tokens (the class token): 1 for a ViT with a class token.
  virtual std::int64_t num_prefix_tokens() const = 0;
  /// Patch tokens along height and width, for a backbone whose tokens lie on an image grid (ViT); nothing for
  /// one whose tokens do not (text).
  virtual std::optional<std::array<std::int64_t, 2>> patch_grid() const { return std::nullopt; }

  TransformerHooks& hooks() { return hooks_; }
  const TransformerHooks& hooks() const { return hooks_; }

 private:
  TransformerHooks hooks_;
};

/// The taps of `backbone`; throws peft::Error naming `method` when the backbone offers none.
PEFT_API TransformerTaps& require_taps(Backbone& backbone, const std::string& method);

}  // namespace peft
