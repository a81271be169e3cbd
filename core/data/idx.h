#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace peft::data {

/// Reads an IDX file (the MNIST / Fashion-MNIST format), gzip-compressed or not, into a uint8 tensor of its shape
/// ([N, rows, cols] for images, [N] for labels). Only unsigned-byte IDX files exist in practice; any other type,
/// a bad magic number, or a size that does not match the dimensions is a peft::Error naming the file.
at::Tensor read_idx(const std::filesystem::path& file);

}  // namespace peft::data
