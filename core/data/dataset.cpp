#include "data/dataset.h"

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "output_paths.h"
#include "peft/bounded_json.h"
#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft::data {
namespace {

void check_not_empty(const Split& split, const fs::path& list) {
  if (split.samples.empty()) throw Error("data", list.string() + " lists no images");
}

std::optional<std::int64_t> dataset_toml_classes(const fs::path& task) {
  const fs::path file = task / "dataset.toml";
  if (!fs::exists(file)) return std::nullopt;
  try {
    const toml::table table = toml::parse_file(file.string());
    if (auto classes = table["num_classes"].value<std::int64_t>()) {
      if (*classes < 1) {
        throw Error("data", file.string() + ": num_classes = " + std::to_string(*classes) + ", expected 1 or more");
      }
      return *classes;
    }
  } catch (const toml::parse_error& e) {
    throw Error("data", file.string() + ": " + std::string(e.description()));
  }
  throw Error("data", file.string() + " has no integer num_classes");
}

bool is_image_file(const fs::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

}  // namespace

std::optional<std::int64_t> vtab1k_num_classes(const std::string& task) {
  static const std::map<std::string, std::int64_t> kClasses{{"cifar", 100},
                                                            {"caltech101", 102},
                                                            {"dtd", 47},
                                                            {"oxford_flowers102", 102},
                                                            {"oxford_iiit_pet", 37},
                                                            {"svhn", 10},
                                                            {"sun397", 397},
                                                            {"patch_camelyon", 2},
                                                            {"eurosat", 10},
                                                            {"resisc45", 45},
                                                            {"diabetic_retinopathy", 5},
                                                            {"clevr_count", 8},
                                                            {"clevr_dist", 6},
                                                            {"dmlab", 6},
                                                            {"kitti", 4},
                                                            {"dsprites_loc", 16},
                                                            {"dsprites_ori", 16},
                                                            {"smallnorb_azi", 18},
                                                            {"smallnorb_ele", 9}};
  const auto found = kClasses.find(task);
  return found == kClasses.end() ? std::nullopt : std::optional<std::int64_t>(found->second);
}

Split read_vtab1k_split(const fs::path& task, const std::string& split_name, std::optional<std::int64_t> num_classes) {
  const fs::path list = task / (split_name + ".txt");
  std::ifstream in(list);
  if (!in) {
    throw Error("data", list.string() + " does not exist (VTAB-1k splits: train800, val200, train800val200, test)");
  }
  Split split;
  if (!num_classes) num_classes = dataset_toml_classes(task);
  if (!num_classes) num_classes = vtab1k_num_classes(fs::weakly_canonical(task).filename().string());
  // Otherwise the labels say it, as torchvision's ImageFolder infers its classes: the largest label plus one.
  split.num_classes_inferred = !num_classes.has_value();
  split.num_classes = num_classes.value_or(std::numeric_limits<std::int64_t>::max());
  std::int64_t largest = -1;
  std::size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = list.string() + ":" + std::to_string(line_number);
    const std::size_t space = line.rfind(' ');
    const std::string label_text = space == std::string::npos ? "" : line.substr(space + 1);
    std::int64_t label = 0;
    const auto [end, error] = std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    if (space == std::string::npos || space == 0 || label_text.empty() || error != std::errc() ||
        end != label_text.data() + label_text.size()) {
      throw Error("data", where + ": expected '<image path> <integer label>', got '" + line + "'");
    }
    if (label < 0 || label >= split.num_classes) {
      throw Error("data", where + ": label " + std::to_string(label) +
                              (split.num_classes_inferred ? " is negative"
                                                          : " outside [0, " + std::to_string(split.num_classes) + ")"));
    }
    largest = std::max(largest, label);
    split.samples.push_back({task / line.substr(0, space), label, where});
  }
  check_not_empty(split, list);
  if (split.num_classes_inferred) split.num_classes = largest + 1;
  return split;
}

Split read_fgvc_split(const fs::path& root, const std::string& split_name, const std::optional<fs::path>& image_root) {
  const auto read_object = [&](const std::string& name) {
    const fs::path file = root / (name + ".json");
    std::ifstream in(file);
    if (!in) throw Error("data", file.string() + " does not exist (FGVC splits: train, val, test)");
    const nlohmann::json json = parse_bounded_json(in, "data", file.string());
    if (json.is_discarded()) throw Error("data", file.string() + " is not valid JSON");
    if (!json.is_object()) throw Error("data", file.string() + " is not a JSON object {\"image path\": label}");
    for (const auto& [path, label] : json.items()) {
      if (!label.is_string() && !label.is_number_integer()) {
        throw Error("data", file.string() + ": label of '" + path + "' is " + label.dump() +
                                ", expected a string or an integer");
      }
    }
    return json;
  };
  // Contiguous ids from the distinct training labels, sorted (strings as strings, integers as numbers).
  const nlohmann::json train = read_object("train");
  std::set<std::string> string_labels;
  std::set<std::int64_t> integer_labels;
  for (const auto& [path, label] : train.items()) {
    if (label.is_string()) {
      string_labels.insert(label.get<std::string>());
    } else {
      integer_labels.insert(label.get<std::int64_t>());
    }
  }
  if (!string_labels.empty() && !integer_labels.empty()) {
    throw Error("data", (root / "train.json").string() + " mixes string and integer labels");
  }
  Split split;
  std::map<std::string, std::int64_t> ids;  // label as text → id, ids given in sorted order
  const auto add_class = [&](const std::string& name) {
    ids.emplace(name, static_cast<std::int64_t>(split.class_names.size()));
    split.class_names.push_back(name);
  };
  for (const auto& label : string_labels) add_class(label);
  for (const auto label : integer_labels) add_class(std::to_string(label));
  split.num_classes = static_cast<std::int64_t>(split.class_names.size());

  const fs::path images = image_root                          ? *image_root
                          : fs::is_directory(root / "images") ? root / "images"
                          : fs::is_directory(root / "Images") ? root / "Images"
                                                              : root;
  const fs::path file = root / (split_name + ".json");
  const nlohmann::json json = split_name == "train" ? train : read_object(split_name);
  for (const auto& [path, label] : json.items()) {
    const std::string key = label.is_string() ? label.get<std::string>() : std::to_string(label.get<std::int64_t>());
    const auto id = ids.find(key);
    if (id == ids.end()) {
      throw Error("data",
                  file.string() + ": label " + label.dump() + " of '" + path + "' does not occur in train.json");
    }
    split.samples.push_back({images / path, id->second, file.filename().string()});
  }
  check_not_empty(split, file);
  return split;
}

Split read_image_folder(const fs::path& root, const std::string& split_name) {
  const fs::path folder = root / split_name;
  if (!fs::is_directory(folder))
    throw Error("data", folder.string() + " is not a folder (ImageFolder: <root>/<split>/<class>/)");
  std::vector<fs::path> classes;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_directory()) classes.push_back(entry.path());
  }
  std::sort(classes.begin(), classes.end());
  Split split;
  split.num_classes = static_cast<std::int64_t>(classes.size());
  for (std::size_t id = 0; id < classes.size(); ++id) {
    split.class_names.push_back(classes[id].filename().string());
    std::vector<fs::path> images;
    for (const auto& entry : fs::directory_iterator(classes[id])) {
      if (entry.is_regular_file() && is_image_file(entry.path())) images.push_back(entry.path());
    }
    std::sort(images.begin(), images.end());
    for (const auto& image : images) {
      split.samples.push_back({image, static_cast<std::int64_t>(id), classes[id].string()});
    }
  }
  check_not_empty(split, folder);
  return split;
}

void check_inside_root(const Split& split, const fs::path& root) {
  const fs::path base = resolved_path(root);  // once, not once a sample
  for (const Sample& sample : split.samples) {
    // `..` and symlinks resolved: what the file really is, not how the list spells it.
    if (!resolved_within(resolved_path(sample.image), base)) {
      throw Error("data", sample.origin + ": image " + sample.image.string() + " lies outside the data root " +
                              root.string() + " (hint: [data] allow_outside_root = true if it is meant to)");
    }
  }
}

}  // namespace peft::data
