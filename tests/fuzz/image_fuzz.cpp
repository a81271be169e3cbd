// Fuzz target: image decoding through peft's wrapper (PNG and JPEG via stb_image, the size limit, channels).
#include "data/image_io.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("input.img", data, size,
                           [](const std::filesystem::path& file) { (void)peft::data::decode_image(file); });
}
