#include "data/text_records.h"

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "peft/bounded_json.h"
#include "peft/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace peft::data {
namespace {

// The field `name` of `record` as text; a missing or non-string field is an error naming where and what is needed.
std::string field(const json& record, const char* name, const std::string& where, const char* needs,
                  bool optional = false) {
  const auto found = record.find(name);
  if (found == record.end() || found->is_null()) {
    if (optional) return {};
    throw Error("data", where + ": no '" + name + "' field (" + needs + ")");
  }
  if (!found->is_string()) throw Error("data", where + ": '" + name + "' is " + found->dump() + ", expected text");
  return found->get<std::string>();
}

TextTemplate detect(const json& record) {
  if (record.contains("instruction") && record.contains("output")) return TextTemplate::alpaca;
  if (record.contains("prompt") && record.contains("completion")) return TextTemplate::prompt_completion;
  return TextTemplate::text;
}

TextRecord map_record(const json& record, TextTemplate chosen, const std::string& where) {
  if (!record.is_object()) throw Error("data", where + ": expected a JSON object, got " + record.dump());
  switch (chosen) {
    case TextTemplate::alpaca: {
      const char* needs = "template alpaca: instruction, input (optional), output";
      return {alpaca_prompt(field(record, "instruction", where, needs), field(record, "input", where, needs, true)),
              field(record, "output", where, needs), where};
    }
    case TextTemplate::prompt_completion: {
      const char* needs = "template prompt_completion: prompt, completion";
      return {field(record, "prompt", where, needs), field(record, "completion", where, needs), where};
    }
    default:
      return {"", field(record, "text", where, "template text: text"), where};
  }
}

}  // namespace

const std::vector<std::string>& text_template_names() {
  static const std::vector<std::string> names{"auto", "text", "alpaca", "prompt_completion"};
  return names;
}

TextTemplate text_template_from(const std::string& name) {
  if (name == "text") return TextTemplate::text;
  if (name == "alpaca") return TextTemplate::alpaca;
  if (name == "prompt_completion") return TextTemplate::prompt_completion;
  return TextTemplate::automatic;
}

std::string alpaca_prompt(const std::string& instruction, const std::string& input) {
  if (input.empty()) {
    return "Below is an instruction that describes a task. Write a response that appropriately completes the "
           "request.\n\n### Instruction:\n" +
           instruction + "\n\n### Response:\n";
  }
  return "Below is an instruction that describes a task, paired with an input that provides further context. Write "
         "a response that appropriately completes the request.\n\n### Instruction:\n" +
         instruction + "\n\n### Input:\n" + input + "\n\n### Response:\n";
}

namespace {

// The raw records of `file` with where each came from; a line that is not JSON goes to `bad`.
std::vector<std::pair<json, std::string>> raw_records(const fs::path& file,
                                                      const std::function<void(const std::string&)>& bad) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("data", file.string() + " cannot be read (expected a .jsonl or .json file of records)");
  std::vector<std::pair<json, std::string>> raw;
  if (file.extension() == ".json") {
    const json all = parse_bounded_json(in, "data", file.string());
    if (all.is_discarded()) throw Error("data", file.string() + " is not JSON");
    if (!all.is_array()) throw Error("data", file.string() + ": expected a JSON array of records");
    for (std::size_t i = 0; i < all.size(); ++i) {
      raw.emplace_back(all[i], file.string() + ": record " + std::to_string(i + 1));
    }
    return raw;
  }
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(number);
    json record = parse_bounded_json(line, "data", where);
    if (record.is_discarded()) {
      bad(where + ": not a JSON object (JSON Lines: one record a line)");
      continue;
    }
    raw.emplace_back(std::move(record), where);
  }
  return raw;
}

// Maps each raw record with `map`; a record it refuses (a peft::Error) goes to `bad`.
template <class Record, class Map>
std::vector<Record> map_records(const std::vector<std::pair<json, std::string>>& raw, bool skip_bad, Map map,
                                const std::function<void(const std::string&)>& bad) {
  std::vector<Record> records;
  records.reserve(raw.size());
  for (const auto& [record, where] : raw) {
    try {
      records.push_back(map(record, where));
    } catch (const Error& error) {
      if (!skip_bad) throw;
      const std::string text = error.what();  // "[data] file:line: ..."
      bad(text.substr(text.find("] ") + 2));
    }
  }
  return records;
}

// A bad record: an error, or with skip_bad counted, the first one's problem kept for the notice.
std::function<void(const std::string&)> bad_record(bool skip_bad, std::size_t& skipped, std::string& first) {
  return [skip_bad, &skipped, &first](const std::string& problem) {
    if (!skip_bad) throw Error("data", problem);
    if (skipped++ == 0) first = problem;
  };
}

void require_records(const fs::path& file, bool any, std::size_t skipped, const std::string& first) {
  if (any) return;
  if (skipped == 0) throw Error("data", file.string() + ": no records");
  throw Error("data", file.string() + ": no usable records (" + std::to_string(skipped) +
                          " skipped; the first: " + first + ")");
}

}  // namespace

TextTemplate detected_template(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("data", file.string() + " cannot be read (expected a .jsonl or .json file of records)");
  if (file.extension() == ".json") {
    const json all = parse_bounded_json(in, "data", file.string());
    return all.is_array() && !all.empty() && all.front().is_object() ? detect(all.front()) : TextTemplate::text;
  }
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json record = parse_bounded_json(line, "data", file.string() + ":1");
    return record.is_object() ? detect(record) : TextTemplate::text;
  }
  return TextTemplate::text;
}

TextRecords read_text_records(const fs::path& file, TextTemplate chosen, bool skip_bad) {
  TextRecords result;
  const auto bad = bad_record(skip_bad, result.skipped, result.first_problem);
  const auto raw = raw_records(file, bad);
  if (chosen == TextTemplate::automatic && !raw.empty() && raw.front().first.is_object()) {
    chosen = detect(raw.front().first);
  }
  result.records = map_records<TextRecord>(
      raw, skip_bad,
      [chosen](const json& record, const std::string& where) { return map_record(record, chosen, where); }, bad);
  require_records(file, !result.records.empty(), result.skipped, result.first_problem);
  return result;
}

LabelledTexts read_labelled_texts(const fs::path& file, bool skip_bad) {
  LabelledTexts result;
  const auto bad = bad_record(skip_bad, result.skipped, result.first_problem);
  const auto raw = raw_records(file, bad);
  result.records = map_records<LabelledText>(
      raw, skip_bad,
      [](const json& record, const std::string& where) {
        if (!record.is_object()) throw Error("data", where + ": expected a JSON object, got " + record.dump());
        const char* needs = "text classification: text, label";
        LabelledText labelled{field(record, "text", where, needs), std::int64_t{0}, where};
        const auto label = record.find("label");
        if (label == record.end() || label->is_null())
          throw Error("data", where + ": no 'label' field (" + needs + ")");
        if (label->is_number_integer()) {
          labelled.label = label->get<std::int64_t>();
        } else if (label->is_string()) {
          labelled.label = label->get<std::string>();
        } else {
          throw Error("data", where + ": 'label' is " + label->dump() + ", expected an integer or a string");
        }
        return labelled;
      },
      bad);
  require_records(file, !result.records.empty(), result.skipped, result.first_problem);
  return result;
}

std::string label_text(const TextLabel& label) {
  if (const auto* number = std::get_if<std::int64_t>(&label)) return std::to_string(*number);
  return json(std::get<std::string>(label)).dump();
}

}  // namespace peft::data
