// Fuzz target: the tokenizer.json tokenizers of tests/fixtures/tokenizers on any bytes. The first byte picks the
// tokenizer; the rest is text: UTF-8 is encoded (with and without special tokens) and decoded, and for Qwen3's
// byte-level BPE decode(encode(text)) must give NFC(text) back; anything else must be refused with peft::Error.
// The same bytes, read as ids, are decoded too.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "hf_tokenizer.h"
#include "peft/error.h"
#include "unicode.h"

namespace fs = std::filesystem;

namespace {

struct Loaded {
  std::vector<std::unique_ptr<peft::hf::HfTokenizer>> tokenizers;
  std::size_t round_trip = 0;  // Qwen3's index
};

const Loaded& loaded() {
  static const Loaded all = [] {
    Loaded result;
    const fs::path root(PEFT_FUZZ_TOKENIZER_DIR);
    result.tokenizers.push_back(peft::hf::HfTokenizer::from_file(root / "qwen3" / "tokenizer.json"));
    result.tokenizers.push_back(peft::hf::HfTokenizer::from_file(root / "llama2" / "tokenizer.json"));
    for (const auto& entry : fs::directory_iterator(root / "made")) {
      if (fs::exists(entry.path() / "tokenizer.json")) {
        result.tokenizers.push_back(peft::hf::HfTokenizer::from_file(entry.path() / "tokenizer.json"));
      }
    }
    return result;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Loaded& all = loaded();
  const std::size_t pick = data[0] % all.tokenizers.size();
  const peft::hf::HfTokenizer& tokenizer = *all.tokenizers[pick];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::int64_t> ids;
  for (std::size_t i = 1; i + 1 < size; i += 2) ids.push_back((data[i] << 8 | data[i + 1]) * (pick + 1));
  (void)tokenizer.decode(ids, data[0] & 1);
  const bool utf8 = peft::hf::invalid_utf8_offset(text) == std::string::npos;
  try {
    const std::vector<std::int64_t> plain = tokenizer.encode(text, false);
    (void)tokenizer.encode(text, true);
    const std::string decoded = tokenizer.decode(plain, false);
    if (!utf8) std::abort();  // invalid UTF-8 must be refused
    if (pick == all.round_trip && decoded != peft::hf::normalize(text, peft::hf::NormalForm::nfc)) std::abort();
  } catch (const peft::Error&) {
    if (utf8) throw;  // valid text must encode
  }
  return 0;
}
