#pragma once
// Where a command may write: never over what it reads, never over a user's file it was not told to replace.

#include <filesystem>
#include <string>
#include <vector>

namespace peft {

/// A path a command reads, with its role for messages ("the run's backbone checkpoint").
struct NamedPath {
  std::filesystem::path path;
  std::string role;
};

/// `path` absolute, with `..` and symlinks resolved as far as it exists.
std::filesystem::path resolved_path(const std::filesystem::path& path);

/// True when `inner` is `outer` or lies under it; both already resolved_path()s.
bool resolved_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

/// True when `inner` is `outer` or lies under it, both with `..` and symlinks resolved.
bool path_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

/// The file `-o FILE` names: refused (a peft::Error from `component` saying why) when it is a folder, when it exists
/// and `overwrite` is false, and always when it is, or lies inside, one of `inputs`.
void check_output_file(const std::filesystem::path& file, bool overwrite, const std::vector<NamedPath>& inputs,
                       const std::string& component);

/// The folder `-o/--out DIR` names: refused when it is a file, when it holds anything and `overwrite` is false (with
/// `overwrite`, the files the command writes replace theirs of the same name; nothing else is removed), and always
/// when it is one of `inputs` or lies inside one, or when one of the files `written` (names in the folder) would be
/// one of `inputs` (an export into the run folder would replace the run's own adapter files).
void check_output_folder(const std::filesystem::path& folder, bool overwrite, const std::vector<NamedPath>& inputs,
                         const std::string& component, const std::vector<std::string>& written = {});

}  // namespace peft
