#include "data/idx.h"

#include <ATen/ops/empty.h>
#include <zlib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "peft/error.h"

namespace peft::data {
namespace {

// An IDX file claiming more than this is corrupt (or a gzip bomb), not a dataset: refused before allocating.
constexpr std::uint64_t kMaxDataBytes = std::uint64_t{16} << 30;

// A plain or gzip file read through zlib (gzread passes plain files through unchanged).
class GzipReader {
 public:
  explicit GzipReader(const std::filesystem::path& file) : file_(file), handle_(gzopen(file.c_str(), "rb"), gzclose) {
    if (!handle_) throw Error("idx", "cannot open " + file.string() + ": " + std::strerror(errno));
  }

  // Reads up to `size` bytes into `out`; returns how many there were (fewer only at the end of the data).
  std::uint64_t read(void* out, std::uint64_t size) {
    auto* bytes = static_cast<std::uint8_t*>(out);
    std::uint64_t done = 0;
    while (done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::uint64_t>(size - done, 1u << 30));
      const int got = gzread(handle_.get(), bytes + done, chunk);
      if (got < 0) {
        int status = Z_OK;
        throw Error("idx", file_.string() + ": corrupt gzip data (" + gzerror(handle_.get(), &status) + ")");
      }
      if (got == 0) break;
      done += static_cast<std::uint64_t>(got);
    }
    return done;
  }

 private:
  std::filesystem::path file_;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> handle_;
};

std::uint32_t big_endian32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

}  // namespace

at::Tensor read_idx(const std::filesystem::path& file) {
  GzipReader in(file);
  std::uint8_t magic[4] = {};
  if (in.read(magic, 4) < 4 || magic[0] != 0 || magic[1] != 0) {
    throw Error("idx", file.string() + " is not an IDX file (bad magic number)");
  }
  if (magic[2] != 0x08) {
    throw Error("idx", file.string() + ": IDX element type 0x" + std::to_string(magic[2]) +
                           " is not supported, expected 0x08 (unsigned byte)");
  }
  const std::size_t rank = magic[3];
  std::uint8_t dims[4 * 255] = {};
  if (rank == 0 || in.read(dims, 4 * rank) < 4 * rank) throw Error("idx", file.string() + ": truncated IDX header");
  std::vector<std::int64_t> shape;
  std::uint64_t count = 1;
  // The product of the dimensions other than zero bounds the strides too: with a zero among them the data is empty,
  // but LibTorch still computes the strides of the rest (found by the fuzzer: "Stride calculation overflowed").
  std::uint64_t nonzero = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    shape.push_back(big_endian32(dims + 4 * i));
    const auto size = static_cast<std::uint64_t>(shape.back());
    if (size != 0 && nonzero > kMaxDataBytes / size) {
      throw Error("idx", file.string() + ": the header's dimensions claim more than " +
                             std::to_string(kMaxDataBytes >> 30) + " GiB (corrupt?)");
    }
    if (size != 0) nonzero *= size;
    count *= size;
  }
  // Read in chunks into a buffer that grows only as data arrives, so a header claiming gigabytes over a few bytes
  // (found by the fuzzer) costs what the file holds, not what it claims.
  std::vector<std::uint8_t> bytes;
  std::uint64_t got = 0;
  while (got < count) {
    bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, std::max<std::uint64_t>(2 * got, 1u << 20))));
    const std::uint64_t read = in.read(bytes.data() + got, bytes.size() - got);
    got += read;
    if (read == 0) break;
  }
  std::uint8_t extra = 0;
  if (got != count || in.read(&extra, 1) != 0) {
    throw Error("idx", file.string() + ": " + (got != count ? std::to_string(got) : "more") +
                           " data bytes, the header's dimensions need " + std::to_string(count) +
                           (got != count ? " (truncated?)" : " (trailing data?)"));
  }
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(at::kByte));
  if (count > 0) std::memcpy(tensor.data_ptr(), bytes.data(), count);
  return tensor;
}

}  // namespace peft::data
