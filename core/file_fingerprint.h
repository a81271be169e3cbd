#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

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

/// Every file a checkpoint is read from, each with its fingerprint: the file itself, or for Hugging Face's sharded
/// layout (`weights` is model.safetensors.index.json) the index and each shard it names, in index order. Every byte
/// the model loads is covered, so a shard replaced after training is noticed (~0.2 s per 350 MB here).
std::vector<std::pair<std::filesystem::path, FileFingerprint>> checkpoint_fingerprints(
    const std::filesystem::path& weights);

/// One fingerprint for several files: their sizes summed, their hashes mixed in order.
FileFingerprint combined(const std::vector<std::pair<std::filesystem::path, FileFingerprint>>& files);

}  // namespace peft
