#pragma once
/// \file
/// Named tensors that travel together through a step: a batch the loader makes (`images`, `labels` for images;
/// `input_ids`, `attention_mask`, `labels` for text) and the outputs a backbone returns (`logits`, `hidden`).
///
///     peft::Batch batch{{peft::keys::images, images}, {peft::keys::labels, labels}};
///     const peft::Outputs outputs = backbone.forward(batch);
///     const at::Tensor& logits = outputs.at(peft::keys::logits);  // a missing name is a peft::Error naming it
///
/// Names keep the order they were set in. Reading a name that is not there is a peft::Error that lists the names
/// that are (`no 'input_ids' in the batch (present: images, labels)`).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peft/api.h"

namespace peft {

/// The names every part of peft agrees on. Backbones and tasks may use others of their own.
namespace keys {
/// [B, C, H, W] float images, normalised for the backbone.
inline constexpr const char* images = "images";
/// [B] class indices, or [B, T] token targets (-100: ignored).
inline constexpr const char* labels = "labels";
/// [B, T] int64 token ids.
inline constexpr const char* input_ids = "input_ids";
/// [B, T] 1 for real tokens, 0 for padding.
inline constexpr const char* attention_mask = "attention_mask";
/// [B, classes] or [B, T, vocabulary]: what the head produced.
inline constexpr const char* logits = "logits";
/// [B, N, D]: the tokens after the final norm, before pooling and the head (timm's forward_features).
inline constexpr const char* hidden = "hidden";
/// A scalar int64: how many tokens a causal LM's key/value cache already holds (CausalLm, backbone.h).
inline constexpr const char* cache_position = "cache_position";
}  // namespace keys

/// Tensors by name, in the order they were set. `kind` names the collection in messages ("batch"), `component`
/// is the peft::Error's component ("data").
class PEFT_API TensorDict {
 public:
  using Entry = std::pair<std::string, at::Tensor>;

  TensorDict(std::string kind, std::string component) : kind_(std::move(kind)), component_(std::move(component)) {}
  TensorDict(std::string kind, std::string component, std::initializer_list<Entry> entries);

  /// Sets `name` to `tensor`, replacing a tensor of that name.
  void set(const std::string& name, at::Tensor tensor);
  bool has(std::string_view name) const;
  /// The tensor called `name`; a peft::Error listing the names there are when there is none.
  const at::Tensor& at(std::string_view name) const;
  /// The tensor called `name`, or an undefined tensor.
  at::Tensor get(std::string_view name) const;
  /// Removes `name` when present.
  void erase(std::string_view name);

  std::vector<std::string> names() const;
  /// "images, labels", or "nothing".
  std::string names_text() const;
  bool empty() const { return entries_.empty(); }
  /// Examples in the collection: the first tensor's leading size (0 when empty).
  std::int64_t size() const;
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& kind() const { return kind_; }

 protected:
  /// Moves every tensor to `device`.
  void to_device(const c10::Device& device);

 private:
  /// The index of the entry called `name`; entries_.size() when there is none.
  std::size_t index_of(std::string_view name) const;

  std::string kind_;
  std::string component_;
  std::vector<Entry> entries_;
};

/// What one step reads: the loader's tensors by name.
class PEFT_API Batch : public TensorDict {
 public:
  Batch() : TensorDict("batch", "data") {}
  Batch(std::initializer_list<Entry> entries) : TensorDict("batch", "data", entries) {}
  /// A copy with every tensor on `device`.
  Batch to(const c10::Device& device) const;
};

/// What a backbone's forward returns: `logits` always, `hidden` where the backbone has token states.
class PEFT_API Outputs : public TensorDict {
 public:
  Outputs() : TensorDict("backbone's outputs", "backbone") {}
  Outputs(std::initializer_list<Entry> entries) : TensorDict("backbone's outputs", "backbone", entries) {}
};

}  // namespace peft
