// The tokenizer.json reader against ids and decodes made by the Rust `tokenizers` library (tests/fixtures/tokenizers).

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hf_tokenizer.h"
#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::hf::HfTokenizer;

namespace {

const fs::path kFixtures = fs::path(PEFT_TOKENIZER_FIXTURE_DIR);

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

// Every text of `cases`: ids with and without special tokens, and the decode that skips special tokens.
void check_texts(const HfTokenizer& tokenizer, const nlohmann::json& cases, const std::string& name) {
  for (const nlohmann::json& item : cases) {
    const std::string text = item.at("text");
    CATCH_INFO(name << ": " << item.at("text").dump());
    CATCH_CHECK(tokenizer.encode(text, false) == item.at("ids").get<std::vector<std::int64_t>>());
    const auto with_special = item.at("ids_with_special_tokens").get<std::vector<std::int64_t>>();
    CATCH_CHECK(tokenizer.encode(text, true) == with_special);
    if (item.contains("decoded_keep_special")) {
      CATCH_CHECK(tokenizer.decode(with_special, true) == item.at("decoded").get<std::string>());
      CATCH_CHECK(tokenizer.decode(with_special, false) == item.at("decoded_keep_special").get<std::string>());
    } else {
      CATCH_CHECK(tokenizer.decode(item.at("ids").get<std::vector<std::int64_t>>(), true) ==
                  item.at("decoded").get<std::string>());
    }
  }
}

fs::path write_tokenizer(const fs::path& folder, const nlohmann::json& json) {
  const fs::path file = folder / "tokenizer.json";
  std::ofstream(file) << json.dump();
  return file;
}

// A made byte-level BPE with added tokens, to break one part of at a time.
nlohmann::json byte_level_json() { return read_json(kFixtures / "made" / "byte_level_added_flags" / "tokenizer.json"); }

}  // namespace

CATCH_TEST_CASE("Qwen3's tokenizer.json gives the Rust library's ids and decodes", "[hf_tokenizer]") {
  const auto tokenizer = HfTokenizer::from_file(kFixtures / "qwen3" / "tokenizer.json");
  check_texts(*tokenizer, read_json(kFixtures / "qwen3" / "reference.json").at("texts"), "qwen3");
  CATCH_CHECK(tokenizer->token_to_id("<|im_start|>") == 151644);
  CATCH_CHECK(tokenizer->is_special(151644));
  CATCH_CHECK(tokenizer->vocab_size() == 151669);
  CATCH_CHECK(tokenizer->special_prefix().empty());
}

CATCH_TEST_CASE("A Llama-2-style tokenizer.json (byte fallback, BOS template) matches the Rust library",
                "[hf_tokenizer]") {
  const auto tokenizer = HfTokenizer::from_file(kFixtures / "llama2" / "tokenizer.json");
  check_texts(*tokenizer, read_json(kFixtures / "llama2" / "reference.json").at("texts"), "llama2");
  CATCH_CHECK(tokenizer->special_prefix() == std::vector<std::int64_t>{1});
  CATCH_CHECK(tokenizer->special_suffix().empty());
}

CATCH_TEST_CASE("Every component of the made tokenizers matches the Rust library", "[hf_tokenizer]") {
  const nlohmann::json reference = read_json(kFixtures / "made" / "reference.json");
  for (const auto& [name, cases] : reference.at("cases").items()) {
    const auto tokenizer = HfTokenizer::from_file(kFixtures / "made" / name / "tokenizer.json");
    check_texts(*tokenizer, cases, name);
  }
}

CATCH_TEST_CASE("A tokenizer.json component peft does not support is refused by name", "[hf_tokenizer]") {
  peft::test::TempFolder folder;
  nlohmann::json json = byte_level_json();
  json["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  const fs::path file = write_tokenizer(folder.path(), json);
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(file),
                            Catch::Contains(file.string() + ": pre_tokenizer: pre_tokenizer type 'UnicodeScripts'"));
  json = byte_level_json();
  json["model"]["type"] = "WordLevel";
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(write_tokenizer(folder.path(), json)),
                            Catch::Contains("model type 'WordLevel' is not supported"));
  json = byte_level_json();
  json["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Precompiled"}}}}};
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(write_tokenizer(folder.path(), json)),
                            Catch::Contains("normalizer.normalizers[0]: normalizer type 'Precompiled'"));
}

CATCH_TEST_CASE("A merge naming a token outside the vocab, or a bad regex, is one error naming it", "[hf_tokenizer]") {
  peft::test::TempFolder folder;
  nlohmann::json json = byte_level_json();
  json["model"]["merges"].push_back("nosuch token");
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(write_tokenizer(folder.path(), json)),
                            Catch::Contains("'nosuch token' names a token that is not in the vocab"));
  json = byte_level_json();
  json["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(write_tokenizer(folder.path(), json)),
                            Catch::Contains("regex (unclosed does not compile"));
  std::ofstream(folder.path() / "broken.json") << "{\"model\": ";
  CATCH_REQUIRE_THROWS_WITH(HfTokenizer::from_file(folder.path() / "broken.json"),
                            Catch::Contains("is not a JSON object"));
}

CATCH_TEST_CASE("Text that is not UTF-8 is refused with the byte offset", "[hf_tokenizer]") {
  const auto tokenizer = HfTokenizer::from_file(kFixtures / "made" / "byte_level_added_flags" / "tokenizer.json");
  CATCH_REQUIRE_THROWS_WITH(tokenizer->encode("ok\xC3(", false), Catch::Contains("not valid UTF-8 at byte 2"));
  CATCH_REQUIRE_THROWS_WITH(tokenizer->encode("\xED\xA0\x80", false), Catch::Contains("at byte 0"));
}

CATCH_TEST_CASE("Byte-level decode of bytes that spell no character gives U+FFFD, as Rust's from_utf8_lossy",
                "[hf_tokenizer]") {
  const auto tokenizer = HfTokenizer::from_file(kFixtures / "qwen3" / "tokenizer.json");
  // The byte-level tokens of F0 9F (a cut-off emoji), 'a', FF: the Python library decodes them to "\uFFFDa\uFFFD".
  CATCH_CHECK(tokenizer->decode({172, 253, 64, 187}, true) ==
              "\xEF\xBF\xBD"
              "a"
              "\xEF\xBF\xBD");
  CATCH_CHECK(tokenizer->decode(tokenizer->encode("😀 ok", false), true) == "😀 ok");
}
