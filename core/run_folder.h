#pragma once
// A run folder's ownership and lock: peft replaces only folders it made, only its own files in them, and one peft
// process at a time works in a run folder.

#include <filesystem>
#include <string>
#include <vector>

#include "output_paths.h"

namespace peft {

/// An advisory lock (flock) on a run folder's marker file, held while the object lives. The kernel drops it when
/// the process ends, however it ends: a kill -9 leaves no stale lock. Taking it creates the marker, which is what
/// makes the folder a peft run folder. A folder another process holds is a peft::Error naming that process's PID.
class RunFolderLock {
 public:
  explicit RunFolderLock(const std::filesystem::path& folder);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int descriptor_ = -1;
};

/// True when `file`'s name is one of peft's run files (kRunFiles) or a half-written temporary of one
/// (`checkpoint.safetensors.tmp.<pid>`): the only files of a run folder peft ever removes.
bool is_own_run_file(const std::filesystem::path& file);

/// True when `folder` holds peft's run marker.
bool is_run_folder(const std::filesystem::path& folder);

/// True when the run in `folder` has nothing worth keeping: no checkpoint and no adapter (it stopped, failed or was
/// killed before its first checkpoint).
bool stopped_before_checkpoint(const std::filesystem::path& folder);

/// Removes peft's own files (kRunFiles and their half-written temporaries) from the run folder `folder`; anything
/// else in it stays, and its names are returned. A folder peft did not make, the working directory, or one that
/// holds a protected path is a peft::Error saying why, and nothing is removed.
std::vector<std::string> clear_run_folder(const std::filesystem::path& folder,
                                          const std::vector<NamedPath>& protected_paths);

}  // namespace peft
