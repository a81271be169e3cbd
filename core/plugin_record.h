#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace peft {

/// What the loader found at one path: a plugin it loaded, or a file or folder it rejected and why.
struct PluginRecord {
  enum class Status { loaded, rejected };

  std::filesystem::path path;
  Status status = Status::rejected;
  /// One line naming what was wrong, with both values where there are two; empty when loaded.
  std::string reason;
  /// What the descriptor declared, as far as the loader read it (empty / 0 when it never got there).
  std::string kind;
  std::string name;
  std::string version;
  std::string summary;
  std::string build_tag;
  std::uint32_t api_version = 0;

  bool loaded() const { return status == Status::loaded; }
};

}  // namespace peft
