// Fuzz target: the safetensors reader (header length, header JSON, dtypes, shapes, offsets).
#include "fuzz_input.h"
#include "peft/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return peft::fuzz::parse("input.safetensors", data, size, [](const std::filesystem::path& file) {
    for (const auto& [name, tensor] : peft::read_safetensors(file).tensors) (void)tensor.sum();
  });
}
