#include "data/image_io.h"

#include <stb_image_write.h>

#include <ATen/ops/from_blob.h>
#include <memory>

#include "data/stb_image_bounded.h"
#include "peft/atomic_file.h"
#include "peft/error.h"

namespace peft::data {

at::Tensor decode_image(const std::filesystem::path& file) {
  int width = 0;
  int height = 0;
  int channels = 0;
  const char* reason = nullptr;
  if (!image_info(file.c_str(), &width, &height, &channels, &reason)) {
    if (!std::filesystem::exists(file)) throw Error("image", file.string() + ": no such file");
    throw Error("image",
                file.string() + ": cannot decode (" + (reason ? reason : "unknown format") + "; expected PNG or JPEG)");
  }
  // A header claiming a huge image (a decompression bomb, or corruption) is refused before anything is allocated;
  // the limit is Pillow's DecompressionBombError threshold. Fuzzing builds take 2048x2048: stb decodes a corrupt
  // JPEG's every block even when its data ended after the header, seconds an input at the full limit.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  constexpr std::int64_t kMaxPixels = 2048 * 2048;
#else
  constexpr std::int64_t kMaxPixels = 178'956'970;
#endif
  if (static_cast<std::int64_t>(width) * height > kMaxPixels) {
    throw Error("image", file.string() + ": " + std::to_string(width) + "x" + std::to_string(height) +
                             " pixels, more than the " + std::to_string(kMaxPixels) +
                             " an image may have (corrupt or a decompression bomb?)");
  }
  // Grey (with or without alpha) stays one channel; everything else, palettes included, becomes RGB.
  const int wanted = channels <= 2 ? 1 : 3;
  const BoundedImage loaded = load_bounded(file.c_str(), wanted);
  const std::unique_ptr<unsigned char, void (*)(unsigned char*)> pixels(loaded.pixels, free_image);
  if (!pixels) {
    throw Error("image",
                file.string() + ": cannot decode (" + (loaded.failure ? loaded.failure : "corrupt data") + ")");
  }
  width = loaded.width;
  height = loaded.height;
  // clone(), not contiguous(): for one channel the permuted view is already contiguous and would still point into
  // stb's buffer, freed on return.
  return at::from_blob(pixels.get(), {height, width, wanted}, at::kByte)
      .permute({2, 0, 1})
      .clone(at::MemoryFormat::Contiguous);
}

void write_png(const std::filesystem::path& file, const at::Tensor& image) {
  TORCH_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3) && image.scalar_type() == at::kByte,
              "write_png expects uint8 [1 or 3, H, W], got ", image.sizes(), " ", image.scalar_type());
  const at::Tensor pixels = image.permute({1, 2, 0}).contiguous();
  const int height = static_cast<int>(image.size(1));
  const int width = static_cast<int>(image.size(2));
  const int channels = static_cast<int>(image.size(0));
  std::error_code error;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), error);
  write_file_atomically(file, [&](std::ostream& out) {
    const auto append = [](void* stream, void* data, int size) {
      static_cast<std::ostream*>(stream)->write(static_cast<const char*>(data), size);
    };
    if (stbi_write_png_to_func(append, &out, width, height, channels, pixels.data_ptr(), width * channels) == 0) {
      throw Error("image", "cannot encode " + file.string() + " as PNG");
    }
  });
}

}  // namespace peft::data
