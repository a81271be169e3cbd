#pragma once
// mini-lm: the text twin of mini-vtab, built from Debian's fortunes package in seconds, deterministically.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace peft::data {

struct MiniLmOptions {
  /// Where Debian's fortunes package puts its plain-text fortune files (one file a category, `%` lines between).
  std::filesystem::path source = "/usr/share/games/fortunes";
  std::filesystem::path out;
  /// Write into an `out` that holds files (replacing those of the same names; nothing else is removed).
  bool overwrite = false;
  std::uint64_t seed = 0;
};

/// One written task: its name, kind and the records in each split.
struct MiniLmTask {
  std::string name;
  std::string kind;  // "pretraining", "causal_lm", "text_classification", "instruction"
  std::int64_t num_classes = 0;
  std::vector<std::pair<std::string, std::int64_t>> splits;
};

/// The fortune categories held out of pretraining: `lm-science` is one, `topic` classifies the others.
const std::vector<std::string>& mini_lm_topics();

/// Builds mini-lm under `out`, one folder a task of `<split>.jsonl` files and a `dataset.toml`:
/// - `pretrain`: `train`, `val` (records `{"text"}`) from every category but the held-out ones, and `corpus.txt`
///   (one training fortune a line, for spm_train);
/// - `lm-science`: `train`, `val`, `test` fortunes of the science category (`{"text"}`);
/// - `topic`: `{"text", "label"}` over food, law, love and sports, 25 val and 25 test fortunes a class;
/// - `arith`: `{"prompt": "12+34=", "completion": "46"}`, two-digit additions drawn from `seed`, no pair in two
///   splits.
/// A fortune is cleaned (overstrike and control characters dropped, whitespace runs made one space); fortunes that
/// a held-out category holds are left out of pretraining. A missing source file is a peft::Error naming it.
std::vector<MiniLmTask> build_mini_lm(const MiniLmOptions& options);

/// A fortune as mini-lm stores it: `X\b` overstrikes and other control characters dropped, tabs, newlines and
/// runs of spaces made one space, trimmed.
std::string clean_fortune(const std::string& raw);

}  // namespace peft::data
