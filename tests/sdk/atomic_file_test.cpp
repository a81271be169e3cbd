#include "peft/atomic_file.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/temp_folder.h"

namespace fs = std::filesystem;

namespace {

std::string contents(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t files_in(const fs::path& folder) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(folder), fs::directory_iterator()));
}

}  // namespace

CATCH_TEST_CASE("an atomic write replaces the file whole and leaves no temporary") {
  peft::test::TempFolder folder;
  const fs::path file = folder.path() / "summary.json";
  peft::write_text_atomically(file, "first");
  peft::write_text_atomically(file, "second");
  CATCH_CHECK(contents(file) == "second");
  CATCH_CHECK(files_in(folder.path()) == 1);
}

CATCH_TEST_CASE("a failed atomic write leaves the previous file and removes its temporary") {
  peft::test::TempFolder folder;
  const fs::path file = folder.path() / "weights.bin";
  peft::write_text_atomically(file, "kept");
  CATCH_CHECK_THROWS_AS(peft::write_file_atomically(file,
                                                    [](std::ostream& out) {
                                                      out << "half";
                                                      throw std::runtime_error("writer failed");
                                                    }),
                        std::runtime_error);
  CATCH_CHECK(contents(file) == "kept");
  CATCH_CHECK(files_in(folder.path()) == 1);
  // A folder where the file should go: one line naming it, nothing written (was "cannot move ...: Success").
  const fs::path blocked = folder.path() / "blocked";
  fs::create_directories(blocked / "inside");
  CATCH_CHECK_THROWS_WITH(peft::write_text_atomically(blocked, "x"),
                          Catch::Equals("[output] cannot write " + blocked.string() +
                                        ": it is a folder (expected a file path); nothing written"));
  CATCH_CHECK(files_in(folder.path()) == 2);
  CATCH_CHECK(peft::is_atomic_temporary(folder.path() / "checkpoint.safetensors.tmp.4242"));
  CATCH_CHECK_FALSE(peft::is_atomic_temporary(folder.path() / "checkpoint.safetensors"));
  // Only peft's own pattern: a user's file that merely contains ".tmp." is never taken for one.
  CATCH_CHECK_FALSE(peft::is_atomic_temporary(folder.path() / "notes.tmp.txt"));
  CATCH_CHECK_FALSE(peft::is_atomic_temporary(folder.path() / "notes.tmp."));
  CATCH_CHECK_FALSE(peft::is_atomic_temporary(folder.path() / ".tmp.42"));
  // The file a temporary stands for; any other name is its own.
  CATCH_CHECK(peft::atomic_target_name(folder.path() / "summary.json.tmp.4242") == "summary.json");
  CATCH_CHECK(peft::atomic_target_name(folder.path() / "a.tmp.1.tmp.77") == "a.tmp.1");
  CATCH_CHECK(peft::atomic_target_name(folder.path() / "notes.tmp.txt") == "notes.tmp.txt");
  CATCH_CHECK(peft::atomic_target_name(folder.path() / "summary.json") == "summary.json");
}
