#include "support/run_command.h"

#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/temp_folder.h"

namespace peft::test {
namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

CommandResult run_command(const std::string& command_line) {
  TempFolder folder;
  const auto out = folder / "stdout";
  const auto err = folder / "stderr";
  const int status = std::system((command_line + " >'" + out.string() + "' 2>'" + err.string() + "'").c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_all(out);
  result.err = read_all(err);
  return result;
}

CommandResult run_peft(const std::string& arguments) {
  return run_command("PEFT_PLUGIN_PATH= '" PEFT_EXECUTABLE "' " + arguments);
}

bool has_line(const std::string& text, const std::string& pattern) {
  const std::regex regex(pattern);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, regex)) return true;
  }
  return false;
}

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

void check_user_error(const CommandResult& result, const std::string& expected) {
  CATCH_CHECK(result.exit_code == 1);
  const std::size_t start = result.err.rfind("peft: error: ");
  CATCH_REQUIRE(start != std::string::npos);
  const std::string line = result.err.substr(start);
  CATCH_CHECK_THAT(line, Catch::Contains(expected));
  CATCH_CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CATCH_CHECK(line.back() == '\n');
}

}  // namespace peft::test
