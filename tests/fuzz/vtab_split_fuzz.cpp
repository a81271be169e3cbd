// Fuzz target: the VTAB-1k split list parser (`<path> <label>` lines, split on the last space).
#include "data/dataset.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("train800.txt", data, size, [](const std::filesystem::path& file) {
    (void)peft::data::read_vtab1k_split(file.parent_path(), "train800", 10);
  });
}
