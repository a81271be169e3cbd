#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace peft {

/// What identifies a file's contents cheaply: its size and a 64-bit hash of every byte (not cryptographic: it tells
/// a changed checkpoint from the one a run was trained on, ~0.2 s for a ViT-B).
struct FileFingerprint {
  std::uintmax_t bytes = 0;
  /// 16 hex digits.
  std::string hash;

  bool operator==(const FileFingerprint& other) const { return bytes == other.bytes && hash == other.hash; }
};

/// The fingerprint of `file`; a file that cannot be read is a peft::Error naming it.
FileFingerprint file_fingerprint(const std::filesystem::path& file);

}  // namespace peft
