#include "scratch_folder.h"

#include <unistd.h>

#include "peft/error.h"

namespace peft {

ScratchFolder::ScratchFolder(const std::string& prefix, const std::string& context) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw Error(context, "cannot make a temporary folder " + pattern);
  path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  if (!keep_) std::filesystem::remove_all(path_, ignored);
}

}  // namespace peft
