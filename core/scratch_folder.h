#pragma once
// A folder of peft's own under the system's temporary folder ($TMPDIR), made fresh by mkdtemp and removed with
// everything in it when done: nothing else can be in it unless someone put it there while peft used it.

#include <filesystem>
#include <string>

namespace peft {

class ScratchFolder {
 public:
  /// `$TMPDIR/<prefix>-XXXXXX`; a peft::Error under `context` when it cannot be made.
  ScratchFolder(const std::string& prefix, const std::string& context);
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  ~ScratchFolder();

  const std::filesystem::path& path() const { return path_; }
  /// Leave it in place (what is in it is named in an error message).
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace peft
