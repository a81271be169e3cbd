#pragma once
// What the fuzz targets share: peft's readers take files, so each input is written to a per-process scratch
// folder first (in memory when /dev/shm exists). peft::Error is the expected answer to bad input; anything else
// escaping (another exception, a crash, a sanitizer report, a hang) is a finding.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "peft/error.h"

namespace peft::fuzz {

inline std::filesystem::path scratch() {
  static const std::filesystem::path folder = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    auto made = base / ("peft-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(made);
    return made;
  }();
  return folder;
}

/// Writes the fuzzer's bytes to `name` in the scratch folder and returns its path.
inline std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch() / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

/// Writes the input to `name` and hands its path to `parse`; a peft::Error is a fine answer.
template <typename Parse>
int parse(const std::string& name, const std::uint8_t* data, std::size_t size, Parse&& parse) {
  const std::filesystem::path file = write_input(name, data, size);
  try {
    parse(file);
  } catch (const peft::Error&) {
  }
  return 0;
}

}  // namespace peft::fuzz
