#pragma once
// Text datasets as users have them: JSON Lines (`.jsonl`, an object a line) or a JSON array (`.json`), each record
// mapped to a prompt and a response by a template: plain `text`, Alpaca's `instruction`/`input`/`output` (with
// the Alpaca prompt), or `prompt`/`completion`.

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace peft::data {

enum class TextTemplate {
  /// Chosen from the first record's fields: instruction+output → alpaca, prompt+completion, else text.
  automatic,
  /// `text`: no prompt; every token is trained on.
  text,
  /// `instruction`, optional `input`, `output`: the Alpaca prompt, the output as the response.
  alpaca,
  /// `prompt`, `completion`.
  prompt_completion,
};

/// "auto", "text", "alpaca", "prompt_completion".
const std::vector<std::string>& text_template_names();
TextTemplate text_template_from(const std::string& name);

/// One record: the prompt (not trained on unless the recipe asks) and the response; for `text`, the prompt is empty.
struct TextRecord {
  std::string prompt;
  std::string response;
  /// Where it came from, for messages: `file:line`.
  std::string where;
};

/// Stanford Alpaca's prompt for an instruction and its (possibly empty) input.
std::string alpaca_prompt(const std::string& instruction, const std::string& input);

struct TextRecords {
  std::vector<TextRecord> records;
  /// Records left out (with skip_bad), and the first one's problem ("file:7: no 'output' field (...)").
  std::size_t skipped = 0;
  std::string first_problem;
};

/// The records of `file`, mapped by `chosen` (resolved from the first record when automatic). A line that is not
/// JSON, a record that is not an object, lacks a field its template needs or holds a non-text value is a
/// peft::Error naming the file and line, or with `skip_bad` left out and counted; a file with no (usable) records
/// is an error either way.
TextRecords read_text_records(const std::filesystem::path& file, TextTemplate chosen, bool skip_bad = false);

/// The template `auto` resolves to for `file`, from its first record (text when it has none that is an object).
TextTemplate detected_template(const std::filesystem::path& file);

/// A record's class label as written: an integer or a string.
using TextLabel = std::variant<std::int64_t, std::string>;

struct LabelledText {
  std::string text;
  TextLabel label;
  std::string where;
};

struct LabelledTexts {
  std::vector<LabelledText> records;
  std::size_t skipped = 0;
  std::string first_problem;
};

/// `text` + `label` records of `file` (JSON Lines or a JSON array, as read_text_records), the label an integer or a
/// string; errors (or, with `skip_bad`, skips) as read_text_records.
LabelledTexts read_labelled_texts(const std::filesystem::path& file, bool skip_bad = false);

/// A label as text for messages: `3`, `"spam"`.
std::string label_text(const TextLabel& label);

}  // namespace peft::data
