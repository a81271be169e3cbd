#include "file_fingerprint.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "peft/checkpoint_source.h"
#include "peft/error.h"

namespace peft {
namespace {

// A word-at-a-time multiply-xorshift mix (the finaliser of MurmurHash3/splitmix64 applied per 8 bytes).
std::uint64_t mix(std::uint64_t state, std::uint64_t word) {
  state ^= word + 0x9e3779b97f4a7c15ULL + (state << 6) + (state >> 2);
  state ^= state >> 33;
  state *= 0xff51afd7ed558ccdULL;
  state ^= state >> 33;
  return state;
}

std::string hex_of(std::uint64_t state) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(state));
  return hex;
}

}  // namespace

FileFingerprint file_fingerprint(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("files", "cannot read " + file.string() + ": " + std::strerror(errno));
  FileFingerprint fingerprint;
  std::uint64_t state = 0x243f6a8885a308d3ULL;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto count = static_cast<std::size_t>(in.gcount());
    fingerprint.bytes += count;
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, buffer.data() + i, 8);
      state = mix(state, word);
    }
    for (; i < count; ++i) state = mix(state, static_cast<unsigned char>(buffer[i]));
  }
  state = mix(state, fingerprint.bytes);
  fingerprint.hash = hex_of(state);
  return fingerprint;
}

std::vector<std::pair<std::filesystem::path, FileFingerprint>> checkpoint_fingerprints(
    const std::filesystem::path& weights) {
  std::vector<std::pair<std::filesystem::path, FileFingerprint>> files{{weights, file_fingerprint(weights)}};
  if (weights.extension() != ".json") return files;
  for (const auto& shard : CheckpointSource::open(weights).files()) files.emplace_back(shard, file_fingerprint(shard));
  return files;
}

FileFingerprint combined(const std::vector<std::pair<std::filesystem::path, FileFingerprint>>& files) {
  FileFingerprint total;
  std::uint64_t state = 0x243f6a8885a308d3ULL;
  for (const auto& [file, fingerprint] : files) {
    total.bytes += fingerprint.bytes;
    state = mix(state, std::stoull(fingerprint.hash, nullptr, 16));
  }
  total.hash = hex_of(mix(state, total.bytes));
  return total;
}

}  // namespace peft
