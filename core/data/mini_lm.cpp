#include "data/mini_lm.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "data/random.h"
#include "output_paths.h"
#include "peft/atomic_file.h"
#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft::data {
namespace {

constexpr const char* kScience = "science";
// Categories whose text is not prose: layout is the content, or there is almost none.
const std::set<std::string> kUnused{"ascii-art", "translate-me", "pratchett"};
constexpr std::size_t kPretrainVal = 500;
constexpr std::size_t kScienceVal = 100;
constexpr std::size_t kScienceTest = 100;
constexpr std::size_t kTopicVal = 25;  // a class
constexpr std::size_t kTopicTest = 25;
constexpr std::size_t kArithTrain = 2000;
constexpr std::size_t kArithVal = 200;
constexpr std::size_t kArithTest = 300;

// The length of the valid UTF-8 sequence starting at `text[i]`, or 0.
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

std::vector<std::string> read_fortunes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("mini-lm", file.string() + " cannot be read (install fortunes, or pass --source DIR)");
  std::vector<std::string> fortunes;
  std::string entry;
  std::string line;
  const auto flush = [&] {
    std::string cleaned = clean_fortune(entry);
    if (!cleaned.empty()) fortunes.push_back(std::move(cleaned));
    entry.clear();
  };
  while (std::getline(in, line)) {
    if (line == "%") {
      flush();
    } else {
      entry += line + '\n';
    }
  }
  flush();
  return fortunes;
}

// The source's categories: its plain files without an extension (fortune's .dat indexes and .u8 links are not).
std::vector<std::string> categories_in(const fs::path& source) {
  if (!fs::is_directory(source)) {
    throw Error("mini-lm", source.string() + " is not a folder of fortune files (install fortunes, or pass --source)");
  }
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(source)) {
    const std::string name = item.path().filename().string();
    if (item.is_symlink() || !item.is_regular_file() || item.path().has_extension() || kUnused.count(name) > 0) {
      continue;
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string record(const nlohmann::json& fields) { return fields.dump() + "\n"; }

class TaskWriter {
 public:
  TaskWriter(fs::path root, MiniLmTask task) : root_(std::move(root)), task_(std::move(task)) {
    fs::create_directories(root_);
  }

  void split(const std::string& name, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line;
    write_text_atomically(root_ / (name + ".jsonl"), text);
    task_.splits.emplace_back(name, static_cast<std::int64_t>(lines.size()));
  }

  void file(const std::string& name, const std::string& text) { write_text_atomically(root_ / name, text); }

  MiniLmTask finish(const std::string& description, std::uint64_t seed) {
    std::ostringstream toml;
    toml << "# Written by `peft data mini-lm` from Debian's fortunes package.\n"
         << "name = \"" << task_.name << "\"\nkind = \"" << task_.kind << "\"\ndescription = \"" << description
         << "\"\n";
    if (task_.num_classes > 0) toml << "num_classes = " << task_.num_classes << "\n";
    toml << "seed = " << seed << "\n\n[splits]\n";
    for (const auto& [split, count] : task_.splits) toml << split << " = " << count << '\n';
    write_text_atomically(root_ / "dataset.toml", toml.str());
    return task_;
  }

 private:
  fs::path root_;
  MiniLmTask task_;
};

std::vector<std::string> text_records(const std::vector<std::string>& fortunes, std::size_t from, std::size_t to) {
  std::vector<std::string> lines;
  for (std::size_t i = from; i < to; ++i) lines.push_back(record({{"text", fortunes[i]}}));
  return lines;
}

}  // namespace

const std::vector<std::string>& mini_lm_topics() {
  static const std::vector<std::string> topics{"food", "law", "love", "sports"};
  return topics;
}

std::string clean_fortune(const std::string& raw) {
  std::string kept;
  for (std::size_t i = 0; i < raw.size();) {
    const char c = raw[i];
    if (i + 1 < raw.size() && raw[i + 1] == '\b') {  // X\b: a printer's overstrike (bold, underline)
      i += 2;
      continue;
    }
    const std::size_t length = utf8_length(raw, i);
    if (length == 0) {  // not UTF-8: dropped
      ++i;
      continue;
    }
    if (length == 1 && (c == '\t' || c == '\n' || c == '\r' || c == ' ')) {
      if (!kept.empty() && kept.back() != ' ') kept += ' ';
    } else if (length > 1 || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F)) {
      kept.append(raw, i, length);
    }
    i += length;
  }
  while (!kept.empty() && kept.back() == ' ') kept.pop_back();
  return kept;
}

std::vector<MiniLmTask> build_mini_lm(const MiniLmOptions& options) {
  if (options.out.empty()) throw Error("mini-lm", "no output folder given (--out DIR)");
  check_output_folder(options.out, options.overwrite, {{options.source, "the fortunes source (--source)"}}, "mini-lm");
  const std::vector<std::string> categories = categories_in(options.source);
  std::vector<std::string> held_out = mini_lm_topics();
  held_out.push_back(kScience);
  std::map<std::string, std::vector<std::string>> by_category;
  for (const auto& name : categories) by_category[name] = read_fortunes(options.source / name);
  for (const auto& name : held_out) {
    if (by_category.count(name) == 0) {
      throw Error("mini-lm", (options.source / name).string() + " is missing (install fortunes, or pass --source)");
    }
  }
  Random random(options.seed);
  std::vector<MiniLmTask> written;

  {  // Pretraining: every other category, without a fortune that a held-out one also holds.
    std::set<std::string> held_texts;
    for (const auto& name : held_out) held_texts.insert(by_category[name].begin(), by_category[name].end());
    std::vector<std::string> fortunes;
    std::set<std::string> seen;
    for (const auto& name : categories) {
      if (std::find(held_out.begin(), held_out.end(), name) != held_out.end()) continue;
      for (const auto& fortune : by_category[name]) {
        if (held_texts.count(fortune) == 0 && seen.insert(fortune).second) fortunes.push_back(fortune);
      }
    }
    random.shuffle(fortunes);
    TaskWriter writer(options.out / "pretrain", {"pretrain", "pretraining", 0, {}});
    const std::size_t val = std::min(kPretrainVal, fortunes.size() / 10);
    writer.split("train", text_records(fortunes, val, fortunes.size()));
    writer.split("val", text_records(fortunes, 0, val));
    std::string corpus;
    for (std::size_t i = val; i < fortunes.size(); ++i) corpus += fortunes[i] + '\n';
    writer.file("corpus.txt", corpus);
    written.push_back(
        writer.finish("fortunes of every category but science, food, law, love and sports", options.seed));
  }

  {  // lm-science: language modelling on a category pretraining never saw.
    std::vector<std::string> fortunes = by_category[kScience];
    random.shuffle(fortunes);
    const std::size_t test_end = kScienceVal + kScienceTest;
    if (fortunes.size() <= test_end) {
      throw Error("mini-lm", (options.source / kScience).string() + " holds " + std::to_string(fortunes.size()) +
                                 " fortunes, expected more than " + std::to_string(test_end));
    }
    TaskWriter writer(options.out / "lm-science", {"lm-science", "causal_lm", 0, {}});
    writer.split("train", text_records(fortunes, test_end, fortunes.size()));
    writer.split("val", text_records(fortunes, 0, kScienceVal));
    writer.split("test", text_records(fortunes, kScienceVal, test_end));
    written.push_back(writer.finish("the science fortunes (held out of pretraining)", options.seed));
  }

  {  // topic: which held-out category a fortune comes from.
    std::vector<std::string> train;
    std::vector<std::string> val;
    std::vector<std::string> test;
    for (const auto& topic : mini_lm_topics()) {
      std::vector<std::string> fortunes = by_category[topic];
      random.shuffle(fortunes);
      if (fortunes.size() <= kTopicVal + kTopicTest) {
        throw Error("mini-lm", (options.source / topic).string() + " holds too few fortunes for topic");
      }
      for (std::size_t i = 0; i < fortunes.size(); ++i) {
        auto& split = i < kTopicVal ? val : i < kTopicVal + kTopicTest ? test : train;
        split.push_back(record({{"text", fortunes[i]}, {"label", topic}}));
      }
    }
    for (auto* split : {&train, &val, &test}) random.shuffle(*split);
    TaskWriter writer(options.out / "topic",
                      {"topic", "text_classification", static_cast<std::int64_t>(mini_lm_topics().size()), {}});
    writer.split("train", train);
    writer.split("val", val);
    writer.split("test", test);
    written.push_back(writer.finish("the category of a food, law, love or sports fortune", options.seed));
  }

  {  // arith: a synthetic instruction task, the prompt masked, scored by exact match of the generated answer.
    std::vector<std::int64_t> pairs(100 * 100);
    for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i] = static_cast<std::int64_t>(i);
    random.shuffle(pairs);
    const auto lines = [&](std::size_t from, std::size_t to) {
      std::vector<std::string> out;
      for (std::size_t i = from; i < to; ++i) {
        const std::int64_t a = pairs[i] / 100;
        const std::int64_t b = pairs[i] % 100;
        out.push_back(record(
            {{"prompt", std::to_string(a) + "+" + std::to_string(b) + "="}, {"completion", std::to_string(a + b)}}));
      }
      return out;
    };
    TaskWriter writer(options.out / "arith", {"arith", "instruction", 0, {}});
    writer.split("train", lines(0, kArithTrain));
    writer.split("val", lines(kArithTrain, kArithTrain + kArithVal));
    writer.split("test", lines(kArithTrain + kArithVal, kArithTrain + kArithVal + kArithTest));
    written.push_back(writer.finish("two-digit additions a+b= with the sum as the completion", options.seed));
  }
  return written;
}

}  // namespace peft::data
