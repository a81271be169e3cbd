#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace peft::data {

/// One labelled image, with where it was listed (for messages).
struct Sample {
  std::filesystem::path image;
  std::int64_t label = 0;
  /// "train800.txt:12", "train.json", "<class folder>".
  std::string origin;
};

/// The samples of one split and what their labels mean.
struct Split {
  std::vector<Sample> samples;
  std::int64_t num_classes = 0;
  /// Names of the classes where the format has them (ImageFolder folders, FGVC label values).
  std::vector<std::string> class_names;
  /// True when nothing gave the class count and it was taken from the labels (the largest plus one).
  bool num_classes_inferred = false;
};

/// A VTAB-1k task folder in the NOAH layout: `<task>/<split>.txt`, lines `<relative image path> <label>` (split on
/// the last space: paths may contain spaces), images relative to the task folder. `num_classes` comes from the
/// caller, else the task's `dataset.toml` (mini-vtab), else the known VTAB-1k task of that folder name, else the
/// labels themselves (the largest plus one; `num_classes_inferred` says so).
/// A missing list, a line without a label, a label outside [0, num_classes) or an empty split is a peft::Error
/// naming the file and line.
Split read_vtab1k_split(const std::filesystem::path& task, const std::string& split,
                        std::optional<std::int64_t> num_classes = std::nullopt);

/// An FGVC dataset with JSON splits: `<root>/<split>.json`, a flat object `{"<relative image path>": label}`;
/// labels (strings or integers) map to contiguous ids by sorting the distinct values of `train.json` (strings as
/// strings, integers as numbers). Images are under `image_root` when given, else `<root>/images` or
/// `<root>/Images` when one exists, else `<root>`.
Split read_fgvc_split(const std::filesystem::path& root, const std::string& split,
                      const std::optional<std::filesystem::path>& image_root = std::nullopt);

/// An ImageFolder tree: `<root>/<split>/<class name>/<image>`, classes sorted by name, PNG and JPEG files sorted by
/// name within each.
Split read_image_folder(const std::filesystem::path& root, const std::string& split);

/// Throws a peft::Error naming the first sample (its list and line) whose image, with `..` and symlinks resolved,
/// is not under `root`: a split file cannot make peft read `../../outside.png` or `/etc/...`.
void check_inside_root(const Split& split, const std::filesystem::path& root);

/// The number of classes of a known VTAB-1k task folder name (cifar: 100, ...), or nothing.
std::optional<std::int64_t> vtab1k_num_classes(const std::string& task);

}  // namespace peft::data
