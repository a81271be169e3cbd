// Fuzz target: the recipe loader (TOML, then every check of [train], [output], [sweep] ...), also with a `--set`
// override taken from the input's first line when it is a comment (`# train.lr=5e-3`).
#include "fuzz_input.h"
#include "recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string first = text.substr(0, text.find('\n'));
  const auto start = first.find_first_not_of("# ");
  return peft::fuzz::parse("recipe.toml", data, size, [&](const std::filesystem::path& file) {
    try {
      (void)peft::load_recipe(file);
    } catch (const peft::Error&) {
    }
    if (first.rfind("#", 0) == 0 && start != std::string::npos) (void)peft::load_recipe(file, {first.substr(start)});
  });
}
