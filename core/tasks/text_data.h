#pragma once
// The [data] keys the text tasks share (causal_lm, text_classification) and what they need of the backbone.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "peft/options.h"
#include "peft/task.h"
#include "peft/tokenizer.h"

namespace peft {

struct TextFiles {
  std::filesystem::path train_file;
  std::filesystem::path eval_file;
  std::string train_split;
  std::string eval_split;
  /// 0: the model's maximum.
  std::int64_t max_length = 0;
  /// on_bad_sample = "skip".
  bool skip_bad = false;
};

/// root, format, train_split, eval_split, max_length and on_bad_sample, resolved; a problem names the key.
TextFiles text_files(const DataRequest& request);

/// Their specs, followed by `extra` (a task's own keys), for the task's registry entry.
std::vector<OptionSpec> text_file_keys(std::vector<OptionSpec> extra = {});

/// The backbone's tokenizer; none is a peft::Error saying `task` needs one.
const Tokenizer& text_tokenizer(const DataRequest& request, const std::string& task);

/// `given` (0: the model's maximum) checked against the backbone's maximum length, where it has one.
std::int64_t text_max_length(const DataRequest& request, std::int64_t given);

/// "FILE: 2 of 50 records skipped (on_bad_sample = "skip"; the first: ...)".
std::string skipped_records_notice(const std::filesystem::path& file, std::size_t skipped, std::size_t kept,
                                   const std::string& first_problem);

}  // namespace peft
