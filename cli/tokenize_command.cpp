#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "hf_tokenizer.h"
#include "peft/error.h"
#include "peft/strings.h"

namespace fs = std::filesystem;

namespace peft::cli {
namespace {

fs::path tokenizer_file(const fs::path& model) {
  if (fs::is_regular_file(model)) return model;
  const fs::path file = model / "tokenizer.json";
  if (fs::is_regular_file(file)) return file;
  throw Error("tokenize",
              model.string() + " has no tokenizer.json (expected a model folder that holds one, or the file)");
}

// A line of --file: \n, \t, \r and \\ stand for themselves; any other backslash is kept.
std::string unescape(const std::string& line) {
  std::string text;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\' || i + 1 == line.size()) {
      text += line[i];
      continue;
    }
    const char next = line[i + 1];
    if (next == 'n' || next == 't' || next == 'r' || next == '\\') {
      text += next == 'n' ? '\n' : next == 't' ? '\t' : next == 'r' ? '\r' : '\\';
      ++i;
    } else {
      text += line[i];
    }
  }
  return text;
}

std::vector<std::string> texts_of(const TokenizeCommandOptions& options) {
  std::vector<std::string> texts = options.texts;
  if (!options.file.empty()) {
    std::ifstream in(options.file, std::ios::binary);
    if (!in) throw Error("tokenize", "cannot read " + options.file.string());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      texts.push_back(unescape(line));
    }
  }
  return texts;
}

std::vector<std::int64_t> ids_of(const std::string& list) {
  std::vector<std::int64_t> ids;
  for (const std::string& item : split(list, ',')) {
    std::int64_t id = -1;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || error != std::errc() || end != item.data() + item.size() || id < 0) {
      throw Error("tokenize", "--decode: '" + item + "' is not a token id (expected comma-separated integers >= 0)");
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

int run_tokenize_command(const TokenizeCommandOptions& options) {
  const auto tokenizer = hf::HfTokenizer::from_file(tokenizer_file(options.model));
  if (!options.decode.empty()) {
    std::cout << tokenizer->decode(ids_of(options.decode), !options.keep_special) << '\n';
    return kSuccess;
  }
  const std::vector<std::string> texts = texts_of(options);
  if (texts.empty()) throw Error("tokenize", "nothing to do: give --text, --file or --decode");
  for (const std::string& text : texts) {
    std::cout << nlohmann::json(tokenizer->encode(text, options.special)).dump() << '\n';
  }
  return kSuccess;
}

}  // namespace peft::cli
