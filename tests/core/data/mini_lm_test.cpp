#include "data/mini_lm.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "peft/error.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;

namespace {

std::vector<peft::data::MiniLmTask> build(const fs::path& out, std::uint64_t seed,
                                          const fs::path& source = "/usr/share/games/fortunes") {
  peft::data::MiniLmOptions options;
  options.out = out;
  options.seed = seed;
  options.source = source;
  return peft::data::build_mini_lm(options);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<nlohmann::json> records(const fs::path& file) {
  std::vector<nlohmann::json> all;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) all.push_back(nlohmann::json::parse(line));
  return all;
}

std::set<std::string> texts(const fs::path& file) {
  std::set<std::string> all;
  for (const auto& record : records(file)) all.insert(record.at("text").get<std::string>());
  return all;
}

std::int64_t count_of(const peft::data::MiniLmTask& task, const std::string& split) {
  for (const auto& [name, count] : task.splits) {
    if (name == split) return count;
  }
  return -1;
}

}  // namespace

CATCH_TEST_CASE("a fortune is cleaned: overstrikes and control characters dropped, whitespace made one space") {
  using peft::data::clean_fortune;
  CATCH_CHECK(clean_fortune("  Hello,\tworld!\n\n  -- Anon\n") == "Hello, world! -- Anon");
  CATCH_CHECK(clean_fortune("_\bb_\bo_\bl_\bd text") == "bold text");  // nroff underlining
  CATCH_CHECK(clean_fortune("a\x01\x7f"
                            "b") == "ab");
  CATCH_CHECK(clean_fortune("caf\xc3\xa9 \xff ok") == "caf\xc3\xa9 ok");  // UTF-8 kept, a stray byte dropped
  CATCH_CHECK(clean_fortune(" \n\t ").empty());
}

CATCH_TEST_CASE("mini-lm is built from Debian's fortunes, the same bytes for a seed, held-out text never pretrained") {
  if (!fs::exists("/usr/share/games/fortunes/science")) CATCH_FAIL("install fortunes (scripts/install_deps.sh)");
  TempFolder first;
  TempFolder again;
  TempFolder other;
  const auto tasks = build(first.path(), 0);
  build(again.path(), 0);
  build(other.path(), 1);
  CATCH_REQUIRE(tasks.size() == 4);
  CATCH_CHECK(tasks[0].name == "pretrain");
  CATCH_CHECK(count_of(tasks[0], "val") == 500);
  CATCH_CHECK(count_of(tasks[0], "train") > 10000);
  CATCH_CHECK(tasks[1].name == "lm-science");
  CATCH_CHECK(count_of(tasks[1], "test") == 100);
  CATCH_CHECK(tasks[2].name == "topic");
  CATCH_CHECK(tasks[2].num_classes == 4);
  CATCH_CHECK(tasks[3].name == "arith");
  CATCH_CHECK(count_of(tasks[3], "train") == 2000);
  for (const char* file : {"pretrain/train.jsonl", "pretrain/corpus.txt", "lm-science/test.jsonl", "topic/val.jsonl",
                           "arith/test.jsonl"}) {
    CATCH_CHECK(read_file(first / file) == read_file(again / file));
    CATCH_CHECK(read_file(first / file) != read_file(other / file));
  }

  // No held-out fortune is in pretraining, and no split shares a fortune with another.
  const std::set<std::string> pretrain = texts(first / "pretrain/train.jsonl");
  std::set<std::string> held;
  for (const char* file : {"lm-science/train.jsonl", "lm-science/val.jsonl", "lm-science/test.jsonl",
                           "topic/train.jsonl", "topic/val.jsonl", "topic/test.jsonl"}) {
    for (const auto& text : texts(first / file)) {
      CATCH_CHECK(pretrain.count(text) == 0);
      held.insert(text);
    }
  }
  const std::set<std::string> science_test = texts(first / "lm-science/test.jsonl");
  for (const auto& text : texts(first / "lm-science/train.jsonl")) CATCH_CHECK(science_test.count(text) == 0);
  CATCH_CHECK(read_file(first / "pretrain/corpus.txt").find('\t') == std::string::npos);

  // topic: 25 val fortunes of each class, labels as names.
  std::map<std::string, int> val_labels;
  for (const auto& record : records(first / "topic/val.jsonl")) ++val_labels[record.at("label").get<std::string>()];
  CATCH_CHECK(val_labels == std::map<std::string, int>{{"food", 25}, {"law", 25}, {"love", 25}, {"sports", 25}});

  // arith: right sums, no pair in two splits.
  std::set<std::string> prompts;
  for (const char* split : {"train", "val", "test"}) {
    for (const auto& record : records(first / "arith" / (std::string(split) + ".jsonl"))) {
      const std::string prompt = record.at("prompt").get<std::string>();
      const std::size_t plus = prompt.find('+');
      const int sum = std::stoi(prompt.substr(0, plus)) + std::stoi(prompt.substr(plus + 1));
      CATCH_CHECK(prompt.back() == '=');
      CATCH_CHECK(record.at("completion").get<std::string>() == std::to_string(sum));
      CATCH_CHECK(prompts.insert(prompt).second);
    }
  }
  CATCH_CHECK(prompts.size() == 2500);
}

CATCH_TEST_CASE("mini-lm names a missing category and never writes over a folder that holds files") {
  TempFolder source;
  peft::test::write_text(source / "science", "E = mc^2\n%\nF = ma\n");
  TempFolder out;
  CATCH_CHECK_THROWS_WITH(
      build(out / "mini-lm", 0, source.path()),
      "[mini-lm] " + (source / "food").string() + " is missing (install fortunes, or pass --source)");
  peft::test::write_text(out / "mine.txt", "a user's file");
  CATCH_CHECK_THROWS_WITH(build(out.path(), 0, source.path()), Catch::Contains("--overwrite"));
  CATCH_CHECK(read_file(out / "mine.txt") == "a user's file");
  CATCH_CHECK_THROWS_WITH(build(out / "x", 0, source / "nowhere"), Catch::Contains("is not a folder of fortune files"));
}
