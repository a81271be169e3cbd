#include "output_paths.h"

#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

void check_not_input(const fs::path& path, const std::vector<NamedPath>& inputs, const std::string& component) {
  for (const auto& input : inputs) {
    if (path_within(path, input.path)) {
      std::error_code error;
      throw Error(component, "will not write " + path.string() + ": it is " +
                                 (fs::equivalent(path, input.path, error) ? "" : "inside ") + input.role + " (" +
                                 input.path.string() + "), which this command reads; choose another path");
    }
  }
}

}  // namespace

fs::path resolved_path(const fs::path& path) {
  std::error_code error;
  return fs::weakly_canonical(fs::absolute(path), error);
}

bool resolved_within(const fs::path& inner, const fs::path& outer) {
  const fs::path relative = inner.lexically_relative(outer);
  return !relative.empty() && *relative.begin() != "..";
}

bool path_within(const fs::path& inner, const fs::path& outer) {
  return resolved_within(resolved_path(inner), resolved_path(outer));
}

void check_output_file(const fs::path& file, bool overwrite, const std::vector<NamedPath>& inputs,
                       const std::string& component) {
  std::error_code error;
  if (fs::is_directory(file, error)) {
    throw Error(component, "cannot write " + file.string() + ": it is a folder (expected a file path)");
  }
  // Checked before any work: the file is written last, after what may be minutes of merging.
  if (const fs::path parent = file.parent_path(); !parent.empty()) {
    if (!fs::exists(parent, error)) {
      throw Error(component, "cannot write " + file.string() + ": the folder " + parent.string() +
                                 " does not exist (make it first, or name another path)");
    }
    if (!fs::is_directory(parent, error)) {
      throw Error(component, "cannot write " + file.string() + ": " + parent.string() + " is a file, not a folder");
    }
  }
  check_not_input(file, inputs, component);
  if (fs::exists(file, error) && !overwrite) {
    throw Error(component, file.string() + " exists (hint: --overwrite to replace it, or another path)");
  }
}

void check_output_folder(const fs::path& folder, bool overwrite, const std::vector<NamedPath>& inputs,
                         const std::string& component, const std::vector<std::string>& written) {
  std::error_code error;
  if (fs::exists(folder, error) && !fs::is_directory(folder, error)) {
    throw Error(component, "cannot write into " + folder.string() + ": it is a file (expected a folder)");
  }
  check_not_input(folder, inputs, component);
  for (const auto& name : written) check_not_input(folder / name, inputs, component);
  if (fs::is_directory(folder, error) && !fs::is_empty(folder, error) && !overwrite) {
    throw Error(component, folder.string() +
                               " exists and is not empty (hint: --overwrite to replace the files written there, "
                               "nothing else is removed; or another folder)");
  }
}

}  // namespace peft
