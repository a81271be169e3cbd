#include "support/images.h"

#include <stb_image_write.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

namespace peft::test {
namespace {

void append_chunk(std::string& png, const std::string& type, const std::string& data) {
  for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((data.size() >> shift) & 0xff));
  const std::string body = type + data;
  png += body;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>((crc >> shift) & 0xff));
}

}  // namespace

void write_palette_png(const std::filesystem::path& file) {
  std::string png = "\x89PNG\r\n\x1a\n";
  append_chunk(png, "IHDR", std::string("\0\0\0\x02\0\0\0\x02\x08\x03\0\0\0", 13));
  append_chunk(png, "PLTE", std::string("\xff\0\0\0\xff\0\0\0\xff", 9));  // red, green, blue
  const std::string rows("\0\x00\x01\0\x02\x00", 6);                      // filter byte, then indices, per row
  uLongf packed_size = compressBound(rows.size());
  std::string packed(packed_size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(rows.data()),
           rows.size());
  packed.resize(packed_size);
  append_chunk(png, "IDAT", packed);
  append_chunk(png, "IEND", "");
  std::ofstream(file, std::ios::binary) << png;
}

void write_flat_jpeg(const std::filesystem::path& file) {
  const std::vector<unsigned char> pixels(16 * 16 * 3, 120);
  stbi_write_jpg(file.c_str(), 16, 16, 3, pixels.data(), 100);
}

}  // namespace peft::test
