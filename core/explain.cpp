#include "explain.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "adapter_file.h"
#include "data/image_dataset.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "heatmap.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/site.h"
#include "peft/strings.h"
#include "peft/taps.h"
#include "run.h"
#include "selector.h"
#include "text_format.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

// Records what a site receives, adding nothing.
struct Probe final : SiteAdapter {
  at::Tensor input;
  at::Tensor output_delta(const at::Tensor& x) override {
    input = x.detach();
    return {};
  }
};

// The images to explain, as a split the eval transform reads.
data::Split chosen_images(const data::Split& split, const ExplainOptions& options) {
  data::Split chosen;
  chosen.num_classes = split.num_classes;
  chosen.class_names = split.class_names;
  if (!options.images.empty()) {
    for (const auto& file : options.images) {
      if (!fs::exists(file)) throw Error("explain", file.string() + " does not exist");
      chosen.samples.push_back({file, 0, file.filename().string()});
    }
    return chosen;
  }
  std::map<std::int64_t, std::int64_t> taken;
  for (const auto& sample : split.samples) {
    if (taken[sample.label]++ < options.per_class) chosen.samples.push_back(sample);
  }
  return chosen;
}

std::string image_name(const data::Sample& sample, std::size_t index, bool from_files) {
  if (from_files) return sample.image.stem().string();
  char name[64];
  std::snprintf(name, sizeof name, "%03zu_class%lld", index, static_cast<long long>(sample.label));
  return name;
}

// One layer's maps for every image [B, K, gh, gw], over W + ΔW or over W alone (`frozen`).
struct LayerMaps {
  std::string layer;
  bool frozen = false;
  at::Tensor maps;
};

// A row of a sheet: one image's maps [K, gh, gw], the columns to show (`order`), and the two lines on its left.
struct SheetRow {
  std::string label;
  std::string note;
  at::Tensor maps;
  std::vector<std::int64_t> order;
};

// The grid of tiles (`sheet`, gap 2) with what a reader needs beside it: the title above, each row's label and note
// on its left, and below the colour bar with its scale.
at::Tensor labelled_sheet(const at::Tensor& grid, const std::vector<SheetRow>& rows, std::int64_t tile_h,
                          std::int64_t tile_w, const std::string& title, const std::string& scale_note) {
  constexpr std::int64_t kGap = 2;
  constexpr std::int64_t kTop = 14;
  constexpr std::int64_t kBottom = 26;
  const std::array<std::uint8_t, 3> ink{0, 0, 0};
  std::int64_t label_width = 0;
  for (const auto& row : rows) {
    label_width = std::max({label_width, text_size(row.label)[0], text_size(row.note)[0]});
  }
  label_width += 8;
  at::Tensor canvas = at::full({3, kTop + grid.size(1) + kBottom, label_width + grid.size(2)}, 255, at::kByte);
  canvas.slice(1, kTop, kTop + grid.size(1)).slice(2, label_width).copy_(grid);
  draw_text(canvas, label_width + kGap, 3, title, ink);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::int64_t middle = kTop + kGap + static_cast<std::int64_t>(r) * (tile_h + kGap) + tile_h / 2;
    draw_text(canvas, 4, middle - 10, rows[r].label, ink);
    draw_text(canvas, 4, middle + 2, rows[r].note, ink);
  }
  // The colour bar under the map columns: 0 on the left, 1 on the right.
  const std::int64_t left = label_width + kGap + tile_w + kGap;
  const std::int64_t width = canvas.size(2) - left - kGap;
  const std::int64_t top = kTop + grid.size(1) + 3;
  if (width > 0) {
    const at::Tensor bar = (jet(at::linspace(0.0, 1.0, width).unsqueeze(0).expand({8, width})) * 255).round();
    canvas.slice(1, top, top + 8).slice(2, left, left + width).copy_(bar.to(at::kByte));
    draw_text(canvas, left, top + 11, "0", ink);
    draw_text(canvas, left + width - text_size("1")[0], top + 11, "1", ink);
    draw_text(canvas, left + 12, top + 11, scale_note, ink);
  }
  return canvas;
}

// Writes one sheet: each row the image, then its shown maps over it, each marked with its cluster index.
void write_sheet(const fs::path& file, const at::Tensor& image, const std::vector<SheetRow>& rows,
                 const std::string& title, const ExplainOptions& options) {
  const std::int64_t size = image.size(1);
  std::vector<at::Tensor> tiles;
  std::int64_t columns = 1;
  for (const auto& row : rows) columns = std::max<std::int64_t>(columns, 1 + row.order.size());
  const at::Tensor image_tile = (image * 255).round().to(at::kByte);
  for (const auto& row : rows) {
    // Upsampled and normalised for the shown maps only: all maps of all images at the input size would take
    // B·K·H·W floats a row (gigabytes for ViT-B on 100 classes).
    const at::Tensor shown = display_maps(row.maps.index_select(0, at::tensor(row.order)).unsqueeze(0), size,
                                          options.normalize, options.threshold)[0];
    tiles.push_back(image_tile);
    for (std::size_t j = 0; j < row.order.size(); ++j) {
      at::Tensor tile = overlay(image, shown[static_cast<std::int64_t>(j)]);
      draw_text(tile, 3, 3, "#" + std::to_string(row.order[j]), {255, 255, 255}, 1,
                std::array<std::uint8_t, 3>{0, 0, 0});
      tiles.push_back(tile);
    }
    for (std::int64_t j = 1 + static_cast<std::int64_t>(row.order.size()); j < columns; ++j) {
      tiles.push_back(at::full_like(image_tile, 255));
    }
  }
  const std::string scale_note = options.normalize == "minmax"
                                     ? "each map min-max, < " + shortest(options.threshold) + " zeroed"
                                     : "each map z-scored, -2.5 to 2.5";
  data::write_png(file, labelled_sheet(sheet(tiles, static_cast<std::int64_t>(rows.size()), columns), rows,
                                       image_tile.size(1), image_tile.size(2), title, scale_note));
}

// The epochs `--epochs` names ("all", or numbers with commas), each one the run kept.
std::vector<std::int64_t> chosen_epochs(const fs::path& folder, const std::string& text) {
  const std::vector<std::int64_t> kept = kept_epochs(folder);
  if (kept.empty()) {
    throw Error("explain", "--epochs " + text + ": " + folder.string() +
                               " kept no per-epoch adapters (train it with [output] keep_epochs = true)");
  }
  if (text == "all") return kept;
  std::vector<std::int64_t> chosen;
  std::string compact = text;
  compact.erase(std::remove(compact.begin(), compact.end(), ' '), compact.end());
  for (const auto& word : split(compact, ',')) {
    std::size_t used = 0;
    long long epoch = -1;
    try {
      epoch = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (word.empty() || used != word.size() || epoch < 0) {
      throw Error("explain",
                  "--epochs " + text + ": '" + word + "' is not an epoch (expected all, or numbers like 0,5,10)");
    }
    if (std::find(kept.begin(), kept.end(), epoch) == kept.end()) {
      throw Error("explain", "--epochs " + text + ": the run kept no adapter of epoch " + word + " (" +
                                 (folder / kEpochsFolder).string() + " has epochs " + std::to_string(kept.front()) +
                                 " to " + std::to_string(kept.back()) + ")");
    }
    if (std::find(chosen.begin(), chosen.end(), epoch) == chosen.end()) chosen.push_back(epoch);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace

std::vector<std::int64_t> most_distinct_maps(const at::Tensor& maps, std::int64_t count) {
  at::Tensor flat = maps.flatten(1).to(at::kDouble);
  const at::Tensor spread = flat.std(1, false);
  flat = flat - flat.mean(1, true);
  flat = flat / flat.norm(2, 1, true).clamp_min(1e-12);
  // Signed: a map lighting the other half of the image (correlation -1) is a different picture, not the same one.
  const at::Tensor similarity = flat.matmul(flat.t());
  const std::int64_t k = maps.size(0);
  std::vector<std::int64_t> chosen{spread.argmax().item<std::int64_t>()};
  // Greedy: next the map least like any chosen one (the smallest largest correlation with them).
  at::Tensor closest = similarity[chosen.front()].clone();
  while (static_cast<std::int64_t>(chosen.size()) < std::min(count, k)) {
    at::Tensor candidates = closest.clone();
    for (const std::int64_t taken : chosen) candidates[taken] = std::numeric_limits<double>::infinity();
    const std::int64_t next = candidates.argmin().item<std::int64_t>();
    chosen.push_back(next);
    closest = at::maximum(closest, similarity[next]);
  }
  return chosen;
}

at::Tensor cluster_maps(const at::Tensor& outputs, const at::Tensor& c, std::int64_t prefix_tokens,
                        std::array<std::int64_t, 2> grid) {
  const at::Tensor patches = outputs.slice(1, prefix_tokens);  // [B, T, d_out]
  TORCH_CHECK(patches.size(1) == grid[0] * grid[1], "explain: ", patches.size(1), " patch tokens, grid ", grid[0], "x",
              grid[1]);
  const at::Tensor maps = patches.matmul(c.to(patches.scalar_type()));  // [B, T, K]
  return maps.transpose(1, 2).reshape({outputs.size(0), c.size(1), grid[0], grid[1]});
}

at::Tensor normalize_maps(const at::Tensor& maps, const std::string& mode, double threshold) {
  const at::Tensor flat = maps.flatten(-2);
  if (mode == "minmax") {
    const at::Tensor low = std::get<0>(flat.min(-1, true));
    const at::Tensor high = std::get<0>(flat.max(-1, true));
    at::Tensor scaled = (flat - low) / (high - low).clamp_min(1e-12);
    scaled = scaled.masked_fill(scaled < threshold, 0.0);  // "below the threshold", as the official code
    return scaled.view_as(maps);
  }
  const at::Tensor z = (flat - flat.mean(-1, true)) / flat.std(-1, true, true).clamp_min(1e-12);
  return ((z.clamp(-2.5, 2.5) + 2.5) / 5.0).view_as(maps);
}

at::Tensor display_maps(const at::Tensor& maps, std::int64_t size, const std::string& mode, double threshold) {
  // F.interpolate(maps, size, mode="bilinear") (align_corners=False), then each map normalised over the image.
  const at::Tensor up = at::upsample_bilinear2d(maps.to(at::kFloat), {size, size}, false);
  return normalize_maps(up, mode, threshold);
}

ExplainReport explain_run(const Registry& registry, const fs::path& folder, const ExplainOptions& options) {
  if (options.normalize != "zscore" && options.normalize != "minmax") {
    throw Error("explain", "--normalize " + options.normalize + ": expected zscore or minmax");
  }
  if (options.images.empty() && options.per_class < 1) {
    throw Error("explain",
                "--per-class " + std::to_string(options.per_class) + ": expected 1 or more images per class");
  }
  if (options.top < 1) throw Error("explain", "--top " + std::to_string(options.top) + ": expected 1 or more maps");
  PreparedRun run = load_run(registry, folder, true, eval_split_override(options.split));
  AdaptedModel& model = run.model;
  TransformerTaps* taps = model.backbone->taps();
  if (taps == nullptr || !taps->patch_grid()) {
    throw Error("explain", "backbone '" + model.backbone->name() + "' has no grid of image patches to map onto");
  }
  NamedTensors matrices = model.method->explain_matrices();
  if (matrices.empty()) throw Error("explain", "method '" + model.method_name + "' has no cluster maps to explain");

  std::vector<std::string> explained;
  for (const auto& [name, c] : matrices) explained.push_back(name);
  ExplainReport report;
  std::vector<std::string> all_sites;
  for (const auto& site : model.backbone->sites()) all_sites.push_back(site->site_name());
  for (const auto& layer : options.layers) {
    // A layer that exists but was not adapted has no cluster maps: say which layers have them.
    const SitePattern pattern = SitePattern::parse(layer);
    const bool explainable =
        std::any_of(explained.begin(), explained.end(), [&](const auto& n) { return pattern.matches(n); });
    if (!explainable &&
        std::any_of(all_sites.begin(), all_sites.end(), [&](const auto& n) { return pattern.matches(n); })) {
      throw Error("explain", "--layers " + layer + ": the run's method did not adapt that layer, so it has no maps (" +
                                 model.method_name + " explains: " + join(explained) + ")");
    }
  }
  report.layers = options.layers.empty() ? explained : select_sites(explained, options.layers);
  report.grid = *taps->patch_grid();
  std::map<std::string, Site> sites;
  for (const auto& site : model.backbone->sites()) sites.emplace(site->site_name(), site);
  std::map<std::string, std::shared_ptr<Probe>> probes;
  for (const auto& layer : report.layers) {
    probes[layer] = std::make_shared<Probe>();
    sites.at(layer)->attach(probes[layer]);
  }

  const auto* eval_images = dynamic_cast<const data::ImageDataset*>(run.data->data.eval.get());
  if (eval_images == nullptr) {
    throw Error("explain", "needs a run of an image task; " + folder.string() + " ran task '" + run.task.name + "'");
  }
  const data::Split images = chosen_images(eval_images->split(), options);
  data::LoaderOptions loader_options = run.data->eval_loader;
  loader_options.workers = 0;
  loader_options.batch_size = static_cast<std::int64_t>(images.samples.size());
  data::Loader loader(std::make_shared<data::ImageDataset>(images, eval_images->options()), loader_options);
  loader.start_epoch(0);
  const auto batch = loader.next();
  if (!batch) throw Error("explain", "no images to explain");
  const std::vector<std::int64_t> epochs =
      options.epochs.empty() ? std::vector<std::int64_t>{} : chosen_epochs(folder, options.epochs);

  if (!options.out.empty())
    check_output_folder(options.out, options.overwrite, run_inputs(folder, run.recipe), "explain");
  const fs::path out = !options.out.empty() ? options.out
                       : epochs.empty()     ? folder / "explain"
                                            : folder / "explain" / "epochs";
  fs::create_directories(out);

  // The maps of every explained layer for the model as it stands: its predictions, then W + ΔW (and W alone).
  at::NoGradGuard no_grad;
  model.train(false);
  const auto maps_now = [&](bool frozen_too, at::Tensor& predicted) {
    predicted = model.logits(batch->to(run.device)).argmax(1).to(at::kCPU);
    const NamedTensors clusters = model.method->explain_matrices();
    std::vector<LayerMaps> rows;
    for (const auto& layer : report.layers) {
      Site& site = sites.at(layer);
      const at::Tensor x = probes[layer]->input;
      const at::Tensor c =
          std::find_if(clusters.begin(), clusters.end(), [&](const auto& m) { return m.first == layer; })->second;
      std::vector<std::pair<bool, at::Tensor>> variants{{false, site->forward(x)}};
      if (frozen_too) variants.emplace_back(true, at::linear(x, site->weight, site->bias));
      for (const auto& [frozen, outputs] : variants) {
        rows.push_back({layer, frozen, cluster_maps(outputs, c, taps->num_prefix_tokens(), report.grid).to(at::kCPU)});
      }
    }
    return rows;
  };
  std::vector<at::Tensor> predictions;
  std::vector<std::vector<LayerMaps>> states;  // one per epoch, or the finished run's alone
  if (epochs.empty()) {
    predictions.emplace_back();
    states.push_back(maps_now(options.frozen, predictions.back()));
  }
  for (const std::int64_t epoch : epochs) {
    load_epoch_adapter(folder, epoch, model);
    predictions.emplace_back();
    states.push_back(maps_now(false, predictions.back()));
  }
  for (const auto& layer : report.layers) sites.at(layer)->detach(probes[layer].get());

  NamedTensors raw;
  for (std::size_t e = 0; e < states.size(); ++e) {
    for (const auto& row : states[e]) {
      const std::string suffix =
          (row.frozen ? ".frozen" : "") + (epochs.empty() ? std::string() : ".epoch" + std::to_string(epochs[e]));
      for (std::int64_t i = 0; i < row.maps.size(0); ++i) {
        raw.emplace_back(std::to_string(i) + "." + row.layer + suffix, row.maps[i].contiguous());
      }
    }
  }
  report.maps = out / "maps.safetensors";
  write_safetensors(report.maps, raw, {{"format", "pt"}, {"layers", join(report.layers)}});

  const auto& transform = eval_images->options().transform;
  const at::Tensor mean = at::tensor(std::vector<double>(transform.mean.begin(), transform.mean.end())).view({3, 1, 1});
  const at::Tensor std = at::tensor(std::vector<double>(transform.std.begin(), transform.std.end())).view({3, 1, 1});
  const at::Tensor& pixels = batch->at(keys::images);
  const std::int64_t size = pixels.size(2);
  const std::int64_t scale = std::max<std::int64_t>(1, (options.tile + size - 1) / size);
  const auto class_name = [&](std::int64_t label) {
    const auto index = static_cast<std::size_t>(label);
    return index < images.class_names.size() ? images.class_names[index] : std::to_string(label);
  };
  for (std::int64_t i = 0; i < pixels.size(0); ++i) {
    const at::Tensor image = at::upsample_bilinear2d((pixels[i] * std + mean).clamp(0, 1).to(at::kFloat).unsqueeze(0),
                                                     {size * scale, size * scale}, false)
                                 .squeeze(0)
                                 .clamp(0, 1);
    const data::Sample& sample = images.samples[static_cast<std::size_t>(i)];
    const std::string name = image_name(sample, static_cast<std::size_t>(i), !options.images.empty());
    const std::string about = name + (options.images.empty() ? ": class " + class_name(sample.label) : "");
    const auto predicted = [&](std::size_t state) { return class_name(predictions[state][i].item<std::int64_t>()); };
    if (epochs.empty()) {
      std::vector<SheetRow> rows;
      for (const auto& row : states.front()) {
        rows.push_back(
            {row.layer, row.frozen ? "W alone" : "W + dW", row.maps[i], most_distinct_maps(row.maps[i], options.top)});
      }
      const fs::path file = out / (name + ".png");
      write_sheet(file, image, rows, about + ", predicted " + predicted(0), options);
      report.sheets.push_back(file);
      continue;
    }
    // The development view: one sheet per layer, a row per epoch, the same clusters in every row (the last epoch's
    // most distinct ones), so that each column follows one cluster through training.
    for (std::size_t l = 0; l < report.layers.size(); ++l) {
      const std::vector<std::int64_t> order = most_distinct_maps(states.back()[l].maps[i], options.top);
      std::vector<SheetRow> rows;
      for (std::size_t e = 0; e < states.size(); ++e) {
        rows.push_back(
            {"epoch " + std::to_string(epochs[e]), "predicted " + predicted(e), states[e][l].maps[i], order});
      }
      const fs::path file = out / (name + "." + report.layers[l] + ".png");
      write_sheet(file, image, rows, about + ", " + report.layers[l] + " (W + dW)", options);
      report.sheets.push_back(file);
    }
  }
  return report;
}

}  // namespace peft
