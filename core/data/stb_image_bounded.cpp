// stb_image compiled here, hardened against two fuzzer findings in Debian's version (stb git 2022-09):
// - allocations are bounded: its zlib output buffer grows by doubling, and a corrupt 132-byte PNG made it ask for
//   2 GiB before failing. Any single allocation over kMaxImageAllocation is refused ("outofmem").
// - JPEG Huffman tables are checked first: a DHT segment whose 16 code counts sum to more than 256 makes
//   stbi__build_huffman write past its 257-entry table (upstream later added this check as "bad DHT header").
// The functions are static to this file (STB_IMAGE_STATIC) and reached through image_io's decode_image only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <vector>

namespace {

// stb_image itself refuses images over 1 GiB decoded; nothing it allocates for a legal image is larger.
constexpr std::size_t kMaxImageAllocation = std::size_t{1} << 30;

void* bounded_malloc(std::size_t size) { return size > kMaxImageAllocation ? nullptr : std::malloc(size); }
void* bounded_realloc(void* pointer, std::size_t size) {
  return size > kMaxImageAllocation ? nullptr : std::realloc(pointer, size);
}

}  // namespace

#define STBI_MALLOC(size) bounded_malloc(size)
#define STBI_REALLOC(pointer, size) bounded_realloc(pointer, size)
#define STBI_FREE(pointer) std::free(pointer)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image.h>
#pragma GCC diagnostic pop

#include "data/stb_image_bounded.h"

namespace peft::data {
namespace {

std::vector<unsigned char> read_file(const char* file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

// Whether every DHT segment of a JPEG declares at most 256 codes per table (non-JPEG data passes). Walks the
// marker segments, skipping entropy-coded data after each SOS up to the next marker that is not a restart.
bool jpeg_huffman_tables_fit(const std::vector<unsigned char>& d) {
  if (d.size() < 2 || d[0] != 0xFF || d[1] != 0xD8) return true;
  std::size_t pos = 2;
  while (pos + 1 < d.size()) {
    if (d[pos] != 0xFF) {
      ++pos;  // entropy-coded data
      continue;
    }
    const unsigned marker = d[pos + 1];
    if (marker == 0xFF || marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      pos += marker == 0xFF ? 1 : 2;  // fill byte, stuffed zero, TEM, restart markers, SOI
      continue;
    }
    if (marker == 0xD9 || pos + 4 > d.size()) return true;  // EOI, or truncated: stb reports it
    const std::size_t length = (std::size_t{d[pos + 2]} << 8) | d[pos + 3];
    if (marker == 0xC4) {
      std::size_t q = pos + 4;
      const std::size_t end = std::min(d.size(), pos + 2 + length);
      while (q + 17 <= end) {
        std::size_t codes = 0;
        for (std::size_t i = 1; i <= 16; ++i) codes += d[q + i];
        if (codes > 256) return false;
        q += 17 + codes;
      }
    }
    pos += 2 + length;
  }
  return true;
}

}  // namespace

BoundedImage load_bounded(const char* file, int wanted_channels) {
  BoundedImage image;
  const std::vector<unsigned char> bytes = read_file(file);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    image.failure = "file over 2 GiB";
    return image;
  }
  if (!jpeg_huffman_tables_fit(bytes)) {
    image.failure = "bad DHT header";
    return image;
  }
  image.pixels = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &image.width, &image.height,
                                       &image.channels, wanted_channels);
  if (image.pixels == nullptr) image.failure = stbi_failure_reason();
  return image;
}

bool image_info(const char* file, int* width, int* height, int* channels, const char** failure) {
  if (stbi_info(file, width, height, channels) != 0) return true;
  *failure = stbi_failure_reason();
  return false;
}

void free_image(unsigned char* pixels) { stbi_image_free(pixels); }

}  // namespace peft::data
