#include "data/idx.h"

#include <ATen/ops/empty.h>
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "peft/error.h"

namespace peft::data {
namespace {

// The whole file, inflated when it is gzip (zlib's gzread passes plain files through unchanged).
std::vector<std::uint8_t> read_maybe_gzip(const std::filesystem::path& file) {
  gzFile handle = gzopen(file.c_str(), "rb");
  if (handle == nullptr) throw Error("idx", "cannot open " + file.string() + ": " + std::strerror(errno));
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[1 << 16];
  int read = 0;
  while ((read = gzread(handle, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + read);
  int status = Z_OK;
  const char* message = gzerror(handle, &status);
  const std::string reason = read < 0 ? std::string(message) : std::string();
  gzclose(handle);
  if (read < 0) throw Error("idx", file.string() + ": corrupt gzip data (" + reason + ")");
  return bytes;
}

std::uint32_t big_endian32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

}  // namespace

at::Tensor read_idx(const std::filesystem::path& file) {
  const std::vector<std::uint8_t> bytes = read_maybe_gzip(file);
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    throw Error("idx", file.string() + " is not an IDX file (bad magic number)");
  }
  if (bytes[2] != 0x08) {
    throw Error("idx", file.string() + ": IDX element type 0x" + std::to_string(bytes[2]) +
                           " is not supported, expected 0x08 (unsigned byte)");
  }
  const std::size_t rank = bytes[3];
  if (rank == 0 || bytes.size() < 4 + 4 * rank) throw Error("idx", file.string() + ": truncated IDX header");
  std::vector<std::int64_t> shape;
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    shape.push_back(big_endian32(bytes.data() + 4 + 4 * i));
    count *= static_cast<std::uint64_t>(shape.back());
  }
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() - header != count) {
    throw Error("idx", file.string() + ": " + std::to_string(bytes.size() - header) + " data bytes, the header's " +
                           "dimensions need " + std::to_string(count) + " (truncated?)");
  }
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(at::kByte));
  std::memcpy(tensor.data_ptr(), bytes.data() + header, count);
  return tensor;
}

}  // namespace peft::data
