#pragma once
/// \file
/// Where a backbone's pretrained weights come from: one safetensors file, or a folder of shards listed by Hugging
/// Face's `model.safetensors.index.json`; tensors are read one at a time, so a checkpoint is never in memory whole
/// beside the model it loads into.
///
///     const peft::CheckpointSource weights = peft::CheckpointSource::open("Llama-3.2-1B");  // index + shards
///     for (const peft::TensorInfo& info : weights.tensors()) { ... info.shape ... }
///     peft::load_state_dict(model, weights);  // strict, tensor by tensor, cast to each parameter's dtype

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peft/api.h"
#include "peft/safetensors.h"

namespace peft {

class PEFT_API CheckpointSource {
 public:
  /// Tensors already in memory (a file read whole, a converted checkpoint, a test's).
  CheckpointSource(TensorFile file);  // NOLINT(google-explicit-constructor): a TensorFile is a source

  /// `path` as a source: a safetensors file; or a folder (or its index file) holding
  /// `model.safetensors.index.json` (its `weight_map`
  /// names each tensor's shard, a file in that folder) or else `model.safetensors`. A missing file, a shard outside
  /// the folder, or a shard that lacks a tensor the index gives it is a peft::Error naming the file; a shard's
  /// tensors the index does not give it are not part of the checkpoint (as in transformers). Only headers are read.
  static CheckpointSource open(const std::filesystem::path& path);

  /// Every tensor, shard by shard in index order, each in file order.
  const std::vector<TensorInfo>& tensors() const { return infos_; }
  const TensorInfo* find(const std::string& name) const;
  /// A CPU copy of `name` in its stored dtype, read from its shard; a peft::Error naming the source when absent.
  at::Tensor read(const std::string& name) const;
  /// `read(name)` copied into `target` (SafetensorsFile::read_into for a file's tensors).
  void read_into(const std::string& name, const at::Tensor& target) const;
  /// Every tensor read: for backbones whose checkpoints are small enough to handle whole (a ViT's).
  TensorFile read_all() const;
  /// The metadata of the (first) file.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// The file or folder, for messages.
  const std::string& source() const { return source_; }
  /// The safetensors files the tensors come from (none for tensors in memory).
  std::vector<std::filesystem::path> files() const;

 private:
  CheckpointSource() = default;
  /// `name`'s place in infos_; a peft::Error naming the source when absent.
  std::size_t position(const std::string& name) const;

  std::string source_;
  std::vector<TensorInfo> infos_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
  /// Where each tensor of infos_ is: a shard, or (memory) nullptr and the tensor itself.
  std::vector<std::shared_ptr<const SafetensorsFile>> shard_of_;
  std::vector<at::Tensor> in_memory_;
  std::vector<std::shared_ptr<const SafetensorsFile>> shards_;
};

}  // namespace peft
