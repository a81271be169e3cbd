#pragma once
// PNG and JPEG decoding through stb_image with every allocation bounded (stb_image_bounded.cpp says why).

namespace peft::data {

struct BoundedImage {
  unsigned char* pixels = nullptr;  // free with free_image
  int width = 0;
  int height = 0;
  int channels = 0;  // in the file
  const char* failure = nullptr;
};

/// stbi_load with bounded allocations.
BoundedImage load_bounded(const char* file, int wanted_channels);
/// stbi_info; on failure sets `failure` to stb's reason.
bool image_info(const char* file, int* width, int* height, int* channels, const char** failure);
void free_image(unsigned char* pixels);

}  // namespace peft::data
