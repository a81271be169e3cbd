// Fuzz target: the IDX reader (plain or gzip; magic, element type, rank, dimensions, data length).
#include "data/idx.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("input-idx-ubyte", data, size,
                           [](const std::filesystem::path& file) { (void)peft::data::read_idx(file); });
}
