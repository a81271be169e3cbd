// stb_image compiled here, PNG and JPEG only, hardened against the fuzzer's findings in Debian's version (stb git
// 2022-09):
// - allocations are bounded: its zlib output buffer grows by doubling, and a corrupt 132-byte PNG made it ask for
//   2 GiB before failing. Any single allocation over kMaxImageAllocation is refused ("outofmem").
// - the copy compiled here (third_party/stb_image.h; its README.md lists the fixes) refuses JPEG Huffman tables over
//   256 codes, DC coefficients that overflow and files that end before every component had a scan, and never lets
//   its bit reader run below zero bits.
// - allocations are zeroed, so a corrupt file decodes to the same pixels (or error) every time.
// The functions are static to this file (STB_IMAGE_STATIC) and reached through image_io's decode_image only.
#include <cstddef>
#include <cstdlib>

namespace {

// stb_image itself refuses images over 1 GiB decoded; nothing it allocates for a legal image is larger. Fuzzing
// builds allow 2048x2048 pixels (image_io.cpp), 64 MiB is ample for those.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr std::size_t kMaxImageAllocation = std::size_t{64} << 20;
#else
constexpr std::size_t kMaxImageAllocation = std::size_t{1} << 30;
#endif

// Zeroed: a corrupt JPEG can use decoder state no marker set (a Huffman table never defined, coefficients no scan
// wrote), and stb took it from a fresh malloc: whatever the heap held before, a different image on every run.
void* bounded_malloc(std::size_t size) { return size > kMaxImageAllocation ? nullptr : std::calloc(1, size); }
void* bounded_realloc(void* pointer, std::size_t size) {
  return size > kMaxImageAllocation ? nullptr : std::realloc(pointer, size);
}

}  // namespace

#define STBI_MALLOC(size) bounded_malloc(size)
#define STBI_REALLOC(pointer, size) bounded_realloc(pointer, size)
#define STBI_FREE(pointer) std::free(pointer)
#define STB_IMAGE_STATIC
// Only the formats datasets use (and decode_image promises): the other readers (TGA, BMP, PSD, GIF, HDR, PIC, PNM)
// would be attack surface nobody asked for.
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include "data/third_party/stb_image.h"
#pragma GCC diagnostic pop

#include "data/stb_image_bounded.h"

namespace peft::data {

BoundedImage load_bounded(const char* file, int wanted_channels) {
  BoundedImage image;
  image.pixels = stbi_load(file, &image.width, &image.height, &image.channels, wanted_channels);
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
