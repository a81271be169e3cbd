#pragma once
/// \file
/// Files written so that a crash, a full disk or a kill never leaves a half-written one: the content goes to a
/// temporary beside the file (`<file>.tmp.<pid>`), which is renamed over the file only once it is complete.
///
///     peft::write_text_atomically(folder / "summary.json", json.dump(2) + "\n");
///     peft::write_file_atomically(folder / "weights.bin", [&](std::ostream& out) { out.write(data, size); });

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "peft/api.h"

namespace peft {

/// Creates a temporary beside `file`, lets `write` fill it, flushes it and renames it over `file`. A failure (no
/// space, a file-size limit, a missing folder, a failed rename) removes the temporary and throws one peft::Error
/// naming the file, the OS reason and that `file` is unchanged. An exception from `write` removes the temporary and
/// propagates.
PEFT_API void write_file_atomically(const std::filesystem::path& file, const std::function<void(std::ostream&)>& write);

/// `write_file_atomically` with `text` as the whole content.
PEFT_API void write_text_atomically(const std::filesystem::path& file, std::string_view text);

/// True for the name of a temporary that `write_file_atomically` leaves only when its process was killed: exactly
/// `<name>.tmp.<digits>`, so that cleaning up after a crash removes nothing else.
PEFT_API bool is_atomic_temporary(const std::filesystem::path& file);

/// The name of the file `file` stands for: without its `.tmp.<digits>` when it is such a temporary
/// (`summary.json.tmp.4242` → `summary.json`), else its own name.
PEFT_API std::string atomic_target_name(const std::filesystem::path& file);

}  // namespace peft
