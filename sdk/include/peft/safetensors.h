#pragma once
/// \file
/// safetensors files: the format of timm checkpoints, adapters and merged models.
///
///     peft::TensorFile file = peft::read_safetensors("vit_base_patch16_224.safetensors");
///     torch::Tensor pos = file.at("pos_embed");
///     peft::write_safetensors("adapter.safetensors", {{"lora_A", a}, {"lora_B", b}}, {{"format", "pt"}});

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"

namespace peft {

/// The tensors of a file in file order, with its string metadata.
struct PEFT_API TensorFile {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`; throws peft::Error naming the file when there is none.
  const at::Tensor& at(const std::string& name) const;
  /// The tensor called `name`, or nullptr.
  const at::Tensor* find(const std::string& name) const;
  /// The file this came from (for messages).
  std::string source;
};

/// One tensor of a file, as its header describes it.
struct TensorInfo {
  std::string name;
  at::ScalarType dtype;
  std::vector<std::int64_t> shape;
};

/// A safetensors file opened for reading tensor by tensor: the header is read and checked when it opens (as
/// read_safetensors checks it); tensor data is read only by `read`, so a large checkpoint never sits in memory
/// twice. The file stays mapped while this lives.
class PEFT_API SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& file);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  /// The tensors in file (data) order.
  const std::vector<TensorInfo>& tensors() const;
  /// The tensor called `name`, or nullptr.
  const TensorInfo* find(const std::string& name) const;
  /// A CPU copy of the tensor called `name`, in its dtype; a peft::Error naming the file when there is none.
  at::Tensor read(const std::string& name) const;
  /// Copies `name` into `target` (same number of elements, any dtype and device), converting as it goes through
  /// a small staging buffer: no whole copy of the tensor in its stored dtype, and the file's pages are let go as
  /// they are read, so loading a checkpoint adds little beyond the model itself to resident memory.
  void read_into(const std::string& name, const at::Tensor& target) const;
  const std::map<std::string, std::string>& metadata() const;
  const std::string& source() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads a safetensors file into CPU tensors (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL), keeping their
/// dtype. Every offset and size in the header is checked against the file before anything is allocated: a
/// truncated file, a header past the end, overlapping or out-of-range data, an unknown dtype or a size that does
/// not match the shape is a peft::Error naming the file and the tensor.
PEFT_API TensorFile read_safetensors(const std::filesystem::path& file);

/// Writes `tensors` (any device; written as they are, contiguous, little-endian) and `metadata` to `file`
/// atomically: to a temporary file beside it, then renamed, so a crash never leaves a half-written file.
PEFT_API void write_safetensors(const std::filesystem::path& file,
                                const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                const std::map<std::string, std::string>& metadata = {});

}  // namespace peft
