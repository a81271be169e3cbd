#include "hub_folder.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "peft/bounded_json.h"
#include "peft/error.h"
#include "peft/strings.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace peft {
namespace {

bool recipe_sets(const BackboneSection& section, const OptionSpec& spec) {
  if (section.options.count(spec.name) != 0) return true;
  return std::any_of(spec.aliases.begin(), spec.aliases.end(),
                     [&](const std::string& alias) { return section.options.count(alias) != 0; });
}

// The option value a JSON scalar or array stands for; the option's spec checks its type later, naming `where`.
std::optional<OptionValue> option_value(const json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) return value.get<double>();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number_integer(); }))
    return value.get<std::vector<std::int64_t>>();
  if (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number(); }))
    return value.get<std::vector<double>>();
  if (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); }))
    return value.get<std::vector<std::string>>();
  return std::nullopt;
}

class ConfigReader {
 public:
  ConfigReader(fs::path file, json config) : file_(std::move(file)), config_(std::move(config)) {}

  [[noreturn]] void bad(const std::string& key, const json& value, const std::string& expected) const {
    throw Error("recipe", file_.string() + ": " + key + " = " + value.dump() + ", expected " + expected);
  }

  std::array<double, 3> triple(const std::string& key, const json& value, bool positive) const {
    const char* expected = positive ? "3 positive numbers (one per channel)" : "3 numbers (one per channel)";
    if (!value.is_array() || value.size() != 3) bad(key, value, expected);
    std::array<double, 3> result{};
    for (std::size_t i = 0; i < 3; ++i) {
      if (!value[i].is_number() || !std::isfinite(value[i].get<double>())) bad(key, value, expected);
      result[i] = value[i].get<double>();
      if (positive && result[i] <= 0) bad(key, value, expected);
    }
    return result;
  }

  PretrainedCfg pretrained_cfg() const {
    PretrainedCfg cfg;
    const json& given = data_config();
    const auto has = [&](const char* key) { return given.contains(key) && !given[key].is_null(); };
    if (has("mean")) cfg.mean = triple(key_of("mean"), given["mean"], false);
    if (has("std")) cfg.std = triple(key_of("std"), given["std"], true);
    if (has("interpolation")) {
      const json& value = given["interpolation"];
      if (!value.is_string() || (value != "bilinear" && value != "bicubic")) {
        bad(key_of("interpolation"), value, "bilinear or bicubic (the resizes peft has)");
      }
      cfg.interpolation = value.get<std::string>();
    }
    if (has("crop_pct")) {
      const json& value = given["crop_pct"];
      if (!value.is_number() || !(value.get<double>() > 0 && value.get<double>() <= 1)) {
        bad(key_of("crop_pct"), value, "a number in (0, 1]");
      }
      cfg.crop_pct = value.get<double>();
    }
    return cfg;
  }

  // A model_args value as the option `spec` takes it. timm writes a size as a pair (save_for_hf's img_size is
  // [224, 224] whatever was given: timm's to_2tuple); an integer option takes a pair of equal sides as that side.
  OptionValue model_arg(const OptionSpec& spec, const std::string& key, const json& value) const {
    if (spec.type == OptionType::integer && value.is_array() && value.size() == 2 && value[0].is_number_integer() &&
        value[1].is_number_integer()) {
      if (value[0] != value[1]) bad(key, value, "an integer, or a pair of equal integers (a square size)");
      return value[0].get<std::int64_t>();
    }
    const auto converted = option_value(value);
    if (!converted) bad(key, value, "a number, boolean, string or list of them");
    return *converted;
  }

  // Options the recipe leaves unset, from what the folder says about its architecture.
  void fill_options(BackboneSection& section, const BackboneEntry& entry) const {
    const auto fill = [&](const OptionSpec& spec, OptionValue value, const std::string& key) {
      if (recipe_sets(section, spec)) return;
      section.options[spec.name] = std::move(value);
      section.option_contexts[spec.name] = file_.string() + " (" + key + ")";
    };
    if (config_.contains("architecture") && config_["architecture"].is_string()) {
      if (const OptionSpec* spec = find_option_spec(entry.options, "variant")) {
        fill(*spec, config_["architecture"].get<std::string>(), "architecture");
      }
    }
    if (config_.contains("model_args") && !config_["model_args"].is_null()) {
      const json& args = config_["model_args"];
      if (!args.is_object()) bad("model_args", args, "an object of model options");
      for (const auto& [key, value] : args.items()) {
        if (value.is_null()) continue;
        const OptionSpec* spec = find_option_spec(entry.options, key);
        if (spec == nullptr) {
          throw Error("recipe", file_.string() + ": model_args." + key + " is not an option of the " + entry.name +
                                    " backbone (see peft list --options " + entry.name + ")");
        }
        fill(*spec, model_arg(*spec, "model_args." + key, value), "model_args." + key);
      }
    }
    const json& cfg = data_config();
    if (cfg.contains("input_size") && !cfg["input_size"].is_null()) {
      const json& size = cfg["input_size"];
      const char* expected = "[channels, height, width] with height = width";
      if (!size.is_array() || size.size() != 3 ||
          !std::all_of(size.begin(), size.end(), [](const json& v) { return v.is_number_integer() && v > 0; }) ||
          size[1] != size[2]) {
        bad(key_of("input_size"), size, expected);
      }
      if (const OptionSpec* spec = find_option_spec(entry.options, "img_size")) {
        fill(*spec, size[1].get<std::int64_t>(), key_of("input_size"));
      }
    }
  }

 private:
  // The table holding the data keys: `pretrained_cfg`, or the whole file in timm's older single-table layout.
  const json& data_config() const {
    if (!config_.contains("pretrained_cfg")) return config_;
    const json& cfg = config_["pretrained_cfg"];
    if (!cfg.is_object()) bad("pretrained_cfg", cfg, "an object");
    return cfg;
  }
  std::string key_of(const std::string& key) const {
    return config_.contains("pretrained_cfg") ? "pretrained_cfg." + key : key;
  }

  fs::path file_;
  json config_;
};

}  // namespace

Preprocessing PretrainedCfg::over(Preprocessing defaults) const {
  if (mean) defaults.mean = *mean;
  if (std) defaults.std = *std;
  if (interpolation) defaults.interpolation = *interpolation;
  if (crop_pct) defaults.crop_pct = *crop_pct;
  return defaults;
}

HubFolder read_hub_folder(const fs::path& folder, BackboneSection& section, const BackboneEntry& entry) {
  HubFolder hub;
  hub.config_file = folder / "config.json";
  // Sharded (Hugging Face's index and its shards) or one file.
  hub.weights = fs::exists(folder / "model.safetensors.index.json") ? folder / "model.safetensors.index.json"
                                                                    : folder / "model.safetensors";
  std::error_code error;
  if (fs::exists(hub.config_file, error) && !fs::is_regular_file(hub.config_file, error)) {
    throw Error("recipe",
                section.context + ": " + hub.config_file.string() + " is not a file (expected timm's config.json)");
  }
  std::ifstream in(hub.config_file);
  if (!in) {
    throw Error("recipe", section.context + ": checkpoint " + folder.string() +
                              " is a folder without config.json (expected a timm hub folder: config.json and "
                              "model.safetensors, or a .safetensors file)");
  }
  json config = parse_bounded_json(in, "recipe", hub.config_file.string());
  if (!config.is_object()) throw Error("recipe", hub.config_file.string() + " is not a JSON object");
  const ConfigReader reader(hub.config_file, std::move(config));
  reader.fill_options(section, entry);
  hub.pretrained_cfg = reader.pretrained_cfg();
  if (!fs::exists(hub.weights)) {
    throw Error("recipe", section.context + ": checkpoint folder " + folder.string() +
                              " has no model.safetensors (nor model.safetensors.index.json and its shards)");
  }
  return hub;
}

}  // namespace peft
