#pragma once

#include <filesystem>
#include <string>

namespace peft::test {

/// A fresh folder under the system temp folder, removed with everything in it when the object goes.
class TempFolder {
 public:
  TempFolder();
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes `text` to `file`, creating its folder.
void write_text(const std::filesystem::path& file, const std::string& text);

}  // namespace peft::test
