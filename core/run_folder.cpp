#include "run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "adapter_file.h"
#include "output_paths.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "run_files.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

[[noreturn]] void refuse(const fs::path& folder, const std::string& why) {
  throw Error("output", "run folder " + folder.string() + ": " + why);
}

// Removes the per-epoch adapters peft kept in `folder/epochs` and, once empty, the folder; what else it holds stays
// and is added to `others` ("epochs/notes.txt").
void clear_epochs_folder(const fs::path& folder, std::vector<std::string>& others) {
  const fs::path epochs = folder / kEpochsFolder;
  std::error_code error;
  bool emptied = true;
  for (const auto& entry : fs::directory_iterator(epochs)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !is_epoch_adapter_file(entry.path())) {
      others.push_back(std::string(kEpochsFolder) + "/" + name + (entry.is_directory() ? "/" : ""));
      emptied = false;
      continue;
    }
    fs::remove(entry.path(), error);
    if (error) refuse(folder, "cannot remove " + std::string(kEpochsFolder) + "/" + name + ": " + error.message());
  }
  if (emptied) fs::remove(epochs, error);
}

}  // namespace

bool is_own_run_file(const fs::path& file) {
  const std::string name = atomic_target_name(file);
  return std::any_of(std::begin(kRunFiles), std::end(kRunFiles), [&](const char* own) { return name == own; });
}

RunFolderLock::RunFolderLock(const fs::path& folder) {
  const fs::path marker = folder / kRunMarkerFile;
  descriptor_ = ::open(marker.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (descriptor_ < 0)
    refuse(folder, std::string("cannot open its lock ") + kRunMarkerFile + ": " + std::strerror(errno));
  if (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
    char text[32] = {};
    const ssize_t read = ::pread(descriptor_, text, sizeof text - 1, 0);
    std::string pid = read > 0 ? std::string(text, static_cast<std::size_t>(read)) : "";
    pid.erase(pid.find_last_not_of("\n ") + 1);
    ::close(descriptor_);
    descriptor_ = -1;
    refuse(folder, "another peft process (PID " + (pid.empty() ? std::string("unknown") : pid) +
                       ") is working in it; wait for it to end, or use another folder");
  }
  // Our PID, for the message above; written in place (the lock is on this inode, a rename would lose it).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(descriptor_, 0) != 0 || ::pwrite(descriptor_, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the PID; only the message of a second process loses it.
  }
}

RunFolderLock::~RunFolderLock() {
  if (descriptor_ >= 0) ::close(descriptor_);  // releases the flock
}

bool is_run_folder(const fs::path& folder) { return fs::exists(folder / kRunMarkerFile); }

bool stopped_before_checkpoint(const fs::path& folder) {
  return !fs::exists(folder / kCheckpointFile) && !fs::exists(folder / kAdapterTensorsFile);
}

std::vector<std::string> clear_run_folder(const fs::path& folder, const std::vector<NamedPath>& protected_paths) {
  std::error_code error;
  if (path_within(fs::current_path(error), folder)) {
    refuse(folder, "is the working directory or holds it; --overwrite never clears it (choose another --out)");
  }
  for (const auto& kept : protected_paths) {
    if (path_within(kept.path, folder)) {
      refuse(folder, "holds " + kept.role + " " + kept.path.string() + "; --overwrite never clears it");
    }
  }
  if (!is_run_folder(folder)) {
    refuse(folder, std::string("is not a run folder peft made (it has no ") + kRunMarkerFile +
                       "); --overwrite replaces only those (choose an empty or new folder)");
  }
  std::vector<std::string> others;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name == kRunMarkerFile) continue;
    if (name == kEpochsFolder && entry.is_directory() && !entry.is_symlink()) {
      clear_epochs_folder(folder, others);
      continue;
    }
    if (!entry.is_regular_file() || !is_own_run_file(entry.path())) {
      others.push_back(name + (entry.is_directory() ? "/" : ""));
      continue;
    }
    fs::remove(entry.path(), error);
    if (error) refuse(folder, "cannot remove " + name + ": " + error.message());
  }
  std::sort(others.begin(), others.end());
  return others;
}

}  // namespace peft
