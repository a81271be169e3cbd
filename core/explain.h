#pragma once
// `peft explain`: the cluster maps of a method with the explain capability (docs/gift.md §7), as PNG sheets over the
// images and as raw tensors.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "peft/registry.h"

namespace peft {

struct ExplainOptions {
  /// The split to draw images from (default: the recipe's eval split), `per_class` images of each class.
  std::string split;
  std::int64_t per_class = 1;
  /// Image files instead of a split (transformed as the eval split is).
  std::vector<std::filesystem::path> images;
  /// Selector patterns over the sites the method explains (default: all of them).
  std::vector<std::string> layers;
  /// Maps per layer on a sheet: the most distinct ones (most_distinct_maps).
  std::int64_t top = 6;
  /// "minmax" (min-max, then values below threshold set to 0: the official visualiser's, the default) or "zscore"
  /// (each map by its mean and standard deviation).
  std::string normalize = "minmax";
  double threshold = 0.5;
  /// Also the maps of the frozen weights W alone (rows marked "W" on the sheet), as the official visualiser draws
  /// pre- and post-delta.
  bool frozen = true;
  /// The cluster-development view: "all", or epochs with commas ("0,5,20"), of the adapters a run kept with
  /// `[output] keep_epochs`; empty: the finished run only. Rows are then epochs (W + ΔW), one sheet per image and
  /// layer, in RUN_DIR/explain/epochs by default.
  std::string epochs;
  /// Where to write (default: RUN_DIR/explain). A given folder that holds files needs `overwrite`.
  std::filesystem::path out;
  bool overwrite = false;
  /// Smallest tile side in pixels (small images are scaled up).
  std::int64_t tile = 96;
};

struct ExplainReport {
  std::vector<std::filesystem::path> sheets;
  std::filesystem::path maps;
  std::vector<std::string> layers;
  std::array<std::int64_t, 2> grid{};
};

/// Maps = Y C: `outputs` [B, P + T, d_out] (a site's outputs, P prefix tokens first), `c` [d_out, K] → [B, K, gh, gw]
/// over the T = gh·gw patch tokens in row-major order.
at::Tensor cluster_maps(const at::Tensor& outputs, const at::Tensor& c, std::int64_t prefix_tokens,
                        std::array<std::int64_t, 2> grid);

/// Which `count` of the maps [K, h, w] to show: first the one that varies most over space, then each time the one
/// least like any already chosen (the smallest largest correlation with them), so a sheet shows K different maps
/// rather than K shades of one.
std::vector<std::int64_t> most_distinct_maps(const at::Tensor& maps, std::int64_t count);

/// Each map [..., h, w] on its own, to display values in [0, 1]: "zscore" maps z ∈ [-2.5, 2.5] linearly onto
/// [0, 1]; "minmax" scales to [0, 1] and zeroes values below `threshold`.
at::Tensor normalize_maps(const at::Tensor& maps, const std::string& mode, double threshold);

/// What a sheet draws, computed as the official visualiser does: maps [B, K, gh, gw] upsampled bilinearly
/// (align_corners = false) to `size` × `size` (the model's input), then each normalised over the image
/// (normalize_maps; "minmax" zeroes what lies below `threshold`).
at::Tensor display_maps(const at::Tensor& maps, std::int64_t size, const std::string& mode, double threshold);

/// Writes one sheet per image (`<name>.png`: rows = layers, first column the image, then the `top` most distinct
/// maps) and `maps.safetensors` (`<image>.<layer>[.frozen]` [K, gh, gw], raw). With `epochs`: one sheet per image
/// and layer (`<name>.<layer>.png`: a row per epoch, the same clusters in each, the last epoch's most distinct), raw
/// maps `<image>.<layer>.epoch<N>`. Errors (a method without the capability, a
/// backbone without taps, a layer pattern matching nothing) are peft::Error naming what is missing.
ExplainReport explain_run(const Registry& registry, const std::filesystem::path& folder, const ExplainOptions& options);

}  // namespace peft
