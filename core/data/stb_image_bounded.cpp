// stb_image compiled here, with allocations bounded: Debian's libstb grows its zlib output buffer by doubling, and
// a corrupt 132-byte PNG (found by the fuzzer) made it ask for 2 GiB before failing. Any single allocation over
// kMaxImageAllocation is refused, which stb reports as "outofmem" and decode_image as a one-line error. The
// functions are static to this file (STB_IMAGE_STATIC) and reached through image_io's decode_image only.
#include <cstddef>
#include <cstdlib>

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
