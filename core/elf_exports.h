#pragma once
// Reading a shared library's exports without loading it: dlopen runs the library's constructors, so what can be
// checked from the file alone is checked first.

#include <filesystem>
#include <optional>
#include <string>

namespace peft {

/// Why `file` is not a shared library for this machine that exports `symbol` (defined, global or weak) in its
/// dynamic symbol table, read from the file alone; nothing when it is. Reads headers and two sections, bounds-checked:
/// a short or lying file is a reason, never a crash.
std::optional<std::string> elf_export_problem(const std::filesystem::path& file, const std::string& symbol);

}  // namespace peft
