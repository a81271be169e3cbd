#include "data/data_plan.h"

#include <cmath>

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/option_table.h"

namespace fs = std::filesystem;

namespace peft::data {
namespace {

std::array<double, 3> triple(const DataRequest& request, const std::string& key,
                             const std::array<double, 3>& fallback) {
  if (!request.options.has(key)) return fallback;
  const auto values = request.options.get<std::vector<double>>(key);
  if (values.size() != 3) {
    request.fail(key, "must have 3 values (one per channel), got " + std::to_string(values.size()));
  }
  return {values[0], values[1], values[2]};
}

}  // namespace

const std::vector<OptionSpec>& image_data_option_specs() {
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
      {"cache", T::boolean, false, "keep decoded images in memory"},
      {"on_bad_image", T::string, std::string("error"), "error | skip"},
      {"allow_outside_root", T::boolean, false,
       "read images the split files place outside root (after .. and symlinks); refused by default"},
  };
  return specs;
}

DataSettings data_settings(const DataRequest& request) {
  const Options& options = request.options;
  const Preprocessing defaults = request.preprocessing != nullptr ? *request.preprocessing : Preprocessing{};
  if (!options.has("format")) request.fail("format", "is missing, expected vtab1k, fgvc or imagefolder");
  if (!options.has("root")) request.fail("root", "is missing, expected the dataset folder");
  DataSettings settings;
  settings.format = options.get<std::string>("format");
  const std::string& format = settings.format;
  if (format != "vtab1k" && format != "fgvc" && format != "imagefolder") {
    request.fail("format", "= '" + format + "', expected vtab1k, fgvc or imagefolder");
  }
  const bool vtab = format == "vtab1k";
  settings.root = request.path("root");
  settings.allow_outside_root = options.get<bool>("allow_outside_root");
  if (options.has("num_classes")) {
    settings.num_classes = options.get<std::int64_t>("num_classes");
    if (*settings.num_classes < 1) {
      request.fail("num_classes", "= " + std::to_string(*settings.num_classes) + ", expected 1 or more");
    }
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
  transform.mean = triple(request, "mean", defaults.mean);
  transform.std = triple(request, "std", defaults.std);
  for (const char* key : {"mean", "std"}) {
    if (options.has(key)) detail::check_finite(options, key, options.values().at(key));
  }

  ImageOptions images;
  images.seed = request.seed;
  images.cache = options.get<bool>("cache");
  images.on_bad_image = options.get<std::string>("on_bad_image");
  if (images.on_bad_image != "error" && images.on_bad_image != "skip") {
    request.fail("on_bad_image", "= '" + images.on_bad_image + "', expected error or skip");
  }

  settings.train_images = images;
  settings.train_images.transform = transform;
  settings.train_images.transform.crop = options.get_or<std::string>("train_crop", vtab ? "none" : "random");
  settings.train_images.transform.flip = options.get_or<bool>("flip", !vtab);
  settings.eval_images = images;
  settings.eval_images.transform = transform;
  settings.eval_images.transform.crop = options.get_or<std::string>("eval_crop", vtab ? "none" : "center");
  if (settings.eval_images.transform.crop == "random")
    request.fail("eval_crop", "cannot be random (evaluation is fixed)");
  try {
    validate(settings.train_images.transform);
    validate(settings.eval_images.transform);
  } catch (const Error& e) {
    throw Error("data", options.context() + ": " + std::string(e.what()).substr(std::string("[data] ").size()));
  }
  return settings;
}

DataPlan plan_data(const DataRequest& request) {
  DataSettings settings = data_settings(request);
  if (!fs::is_directory(settings.root)) request.fail("root", "= " + settings.root.string() + " is not a folder");
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
  plan.train_images = std::move(settings.train_images);
  plan.eval_images = std::move(settings.eval_images);
  return plan;
}

}  // namespace peft::data
