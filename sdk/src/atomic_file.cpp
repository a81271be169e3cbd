#include "peft/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

constexpr std::string_view kTemporaryMarker = ".tmp.";

void remove_quietly(const fs::path& file) {
  std::error_code ignored;
  fs::remove(file, ignored);
}

}  // namespace

void write_file_atomically(const fs::path& file, const std::function<void(std::ostream&)>& write) {
  if (fs::is_directory(file)) {
    throw Error("output", "cannot write " + file.string() + ": it is a folder (expected a file path); nothing written");
  }
  const fs::path temporary = file.string() + std::string(kTemporaryMarker) + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw Error("output", "cannot write " + temporary.string() + ": " + std::strerror(errno) + "; " + file.string() +
                                " is unchanged");
    }
    try {
      write(out);
    } catch (...) {
      out.close();
      remove_quietly(temporary);
      throw;
    }
    out.flush();
    if (!out) {
      const int error = errno;
      out.close();
      remove_quietly(temporary);
      throw Error("output", "cannot write " + temporary.string() + ": " + std::strerror(error) +
                                " (disk full or over a file size limit?); " + file.string() + " is unchanged");
    }
  }
  std::error_code error;
  fs::rename(temporary, file, error);
  if (error) {
    remove_quietly(temporary);
    throw Error("output", "cannot move " + temporary.string() + " to " + file.string() + ": " + error.message() + "; " +
                              file.string() + " is unchanged");
  }
}

void write_text_atomically(const fs::path& file, std::string_view text) {
  write_file_atomically(file,
                        [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

bool is_atomic_temporary(const fs::path& file) {
  // Exactly `<name>.tmp.<pid>`: a user's `notes.tmp.txt` in a run folder is not one of ours.
  const std::string name = file.filename().string();
  const auto marker = name.rfind(kTemporaryMarker);
  if (marker == std::string::npos || marker == 0) return false;
  const std::string pid = name.substr(marker + kTemporaryMarker.size());
  return !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
}

std::string atomic_target_name(const fs::path& file) {
  const std::string name = file.filename().string();
  return is_atomic_temporary(file) ? name.substr(0, name.rfind(kTemporaryMarker)) : name;
}

}  // namespace peft
