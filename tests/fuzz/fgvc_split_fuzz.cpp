// Fuzz target: the FGVC JSON split parser (a flat object of image path -> string or integer label).
#include "data/dataset.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("train.json", data, size, [](const std::filesystem::path& file) {
    (void)peft::data::read_fgvc_split(file.parent_path(), "train", file.parent_path());
  });
}
