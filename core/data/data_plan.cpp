#include "data/data_plan.h"

#include <cmath>

#include "peft/error.h"
#include "peft/option_table.h"

namespace fs = std::filesystem;

namespace peft::data {
namespace {

// Decoding threads beyond this only contend (and 100000 failed to start).
constexpr std::int64_t kMostWorkers = 256;

[[noreturn]] void bad(const RecipeTable& table, const std::string& key, const std::string& message) {
  const auto located = table.option_contexts.find(key);
  throw Error("data",
              (located == table.option_contexts.end() ? table.context : located->second) + ": " + key + " " + message);
}

std::array<double, 3> triple(const Options& options, const RecipeTable& table, const std::string& key,
                             const std::array<double, 3>& fallback) {
  if (!options.has(key)) return fallback;
  const auto values = options.get<std::vector<double>>(key);
  if (values.size() != 3) bad(table, key, "must have 3 values (one per channel), got " + std::to_string(values.size()));
  return {values[0], values[1], values[2]};
}

}  // namespace

const std::vector<OptionSpec>& data_option_specs() {
  using T = OptionType;
  static const std::vector<OptionSpec> specs{
      {"format", T::string, std::nullopt, "vtab1k | fgvc | imagefolder"},
      {"root", T::string, std::nullopt, "the dataset folder (relative to the recipe)"},
      {"train_split", T::string, std::nullopt, "default: train800val200 (vtab1k), train (fgvc, imagefolder)"},
      {"eval_split", T::string, std::nullopt, "default: test (vtab1k, fgvc), val (imagefolder)"},
      {"num_classes", T::integer, std::nullopt,
       "vtab1k classes (default: the task's dataset.toml, the known VTAB-1k task, else the largest label + 1)"},
      {"image_root", T::string, std::nullopt, "fgvc: the folder image paths are relative to (under root)"},
      {"image_size", T::integer, std::nullopt, "model input size (default: the backbone's)"},
      {"interpolation", T::string, std::nullopt,
       "bilinear | bicubic (default: bilinear for vtab1k, else the backbone's)"},
      {"resize", T::string, std::nullopt, "direct | shorter (default: direct for vtab1k, else shorter)"},
      {"resize_size", T::integer, std::nullopt,
       "shorter-side size (default: floor(image_size / crop_pct) with the backbone's crop_pct, 256 for 224 at 0.875)"},
      {"train_crop", T::string, std::nullopt, "none | center | random (default: none for vtab1k, else random)"},
      {"eval_crop", T::string, std::nullopt, "none | center (default: none for vtab1k, else center)"},
      {"flip", T::boolean, std::nullopt, "random horizontal flip in training (default: false for vtab1k, else true)"},
      {"mean", T::number_list, std::nullopt, "per-channel mean (default: the backbone's)"},
      {"std", T::number_list, std::nullopt, "per-channel std (default: the backbone's)"},
      {"workers", T::integer, std::int64_t{2}, "loader threads, 0 to 256"},
      {"cache", T::boolean, false, "keep decoded images in memory"},
      {"on_bad_image", T::string, std::string("error"), "error | skip"},
      {"allow_outside_root", T::boolean, false,
       "read images the split files place outside root (after .. and symlinks); refused by default"},
  };
  return specs;
}

DataSettings data_settings(const RecipeTable& table, const fs::path& recipe_folder, const Preprocessing& defaults,
                           std::uint64_t seed, std::int64_t batch_size) {
  const Options options = resolve_options(data_option_specs(), table.options, table.context, table.option_contexts);
  if (!options.has("format")) bad(table, "format", "is missing, expected vtab1k, fgvc or imagefolder");
  if (!options.has("root")) bad(table, "root", "is missing, expected the dataset folder");
  DataSettings settings;
  settings.format = options.get<std::string>("format");
  const std::string& format = settings.format;
  if (format != "vtab1k" && format != "fgvc" && format != "imagefolder") {
    bad(table, "format", "= '" + format + "', expected vtab1k, fgvc or imagefolder");
  }
  const bool vtab = format == "vtab1k";
  settings.root = options.get<std::string>("root");
  settings.allow_outside_root = options.get<bool>("allow_outside_root");
  if (settings.root.is_relative()) settings.root = recipe_folder / settings.root;
  if (options.has("num_classes")) {
    settings.num_classes = options.get<std::int64_t>("num_classes");
    if (*settings.num_classes < 1)
      bad(table, "num_classes", "= " + std::to_string(*settings.num_classes) + ", expected 1 or more");
  }
  if (options.has("image_root")) settings.image_root = settings.root / options.get<std::string>("image_root");
  settings.train_split = options.get_or<std::string>("train_split", vtab ? "train800val200" : "train");
  settings.eval_split = options.get_or<std::string>("eval_split", format == "imagefolder" ? "val" : "test");

  TransformOptions transform;
  transform.image_size = options.get_or<std::int64_t>("image_size", defaults.image_size);
  transform.interpolation = options.get_or<std::string>("interpolation", vtab ? "bilinear" : defaults.interpolation);
  transform.resize = options.get_or<std::string>("resize", vtab ? "direct" : "shorter");
  // timm's eval transform: floor(image_size / crop_pct).
  transform.resize_size = options.get_or<std::int64_t>(
      "resize_size",
      static_cast<std::int64_t>(std::floor(static_cast<double>(transform.image_size) / defaults.crop_pct)));
  transform.mean = triple(options, table, "mean", defaults.mean);
  transform.std = triple(options, table, "std", defaults.std);
  for (const char* key : {"mean", "std"}) {
    if (options.has(key)) detail::check_finite(options, key, options.values().at(key));
  }

  LoaderOptions loader;
  loader.batch_size = batch_size;
  loader.seed = seed;
  const std::int64_t workers = options.get<std::int64_t>("workers");
  if (workers < 0 || workers > kMostWorkers) {
    bad(table, "workers",
        "= " + std::to_string(workers) + ", expected 0 to " + std::to_string(kMostWorkers) +
            " (0: decode in the training thread)");
  }
  loader.workers = static_cast<int>(workers);
  loader.cache = options.get<bool>("cache");
  loader.on_bad_image = options.get<std::string>("on_bad_image");
  if (loader.on_bad_image != "error" && loader.on_bad_image != "skip") {
    bad(table, "on_bad_image", "= '" + loader.on_bad_image + "', expected error or skip");
  }

  settings.train_loader = loader;
  settings.train_loader.transform = transform;
  settings.train_loader.transform.crop = options.get_or<std::string>("train_crop", vtab ? "none" : "random");
  settings.train_loader.transform.flip = options.get_or<bool>("flip", !vtab);
  settings.eval_loader = loader;
  settings.eval_loader.shuffle = false;
  settings.eval_loader.transform = transform;
  settings.eval_loader.transform.crop = options.get_or<std::string>("eval_crop", vtab ? "none" : "center");
  if (settings.eval_loader.transform.crop == "random") {
    bad(table, "eval_crop", "cannot be random (evaluation is fixed)");
  }
  try {
    validate(settings.train_loader.transform);
    validate(settings.eval_loader.transform);
  } catch (const Error& e) {
    throw Error("data", table.context + ": " + std::string(e.what()).substr(std::string("[data] ").size()));
  }
  return settings;
}

DataPlan plan_data(const RecipeTable& table, const fs::path& recipe_folder, const Preprocessing& defaults,
                   std::uint64_t seed, std::int64_t batch_size) {
  DataSettings settings = data_settings(table, recipe_folder, defaults, seed, batch_size);
  if (!fs::is_directory(settings.root)) bad(table, "root", "= " + settings.root.string() + " is not a folder");
  const auto read = [&](const std::string& name) {
    Split split = settings.format == "vtab1k" ? read_vtab1k_split(settings.root, name, settings.num_classes)
                  : settings.format == "fgvc" ? read_fgvc_split(settings.root, name, settings.image_root)
                                              : read_image_folder(settings.root, name);
    if (!settings.allow_outside_root) check_inside_root(split, settings.root);
    return split;
  };
  DataPlan plan;
  plan.train = read(settings.train_split);
  if (plan.train.num_classes_inferred) {
    settings.num_classes = plan.train.num_classes;  // the evaluation labels are checked against the training count
    plan.notices.push_back(std::to_string(plan.train.num_classes) + " classes, taken from the labels of " +
                           (settings.root / (settings.train_split + ".txt")).string() +
                           " (largest label + 1; set data.num_classes if the split lacks the last classes)");
  }
  plan.eval = read(settings.eval_split);
  plan.train_split = settings.train_split;
  plan.eval_split = settings.eval_split;
  plan.train_loader = std::move(settings.train_loader);
  plan.eval_loader = std::move(settings.eval_loader);
  return plan;
}

}  // namespace peft::data
