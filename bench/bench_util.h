#pragma once
// What the benchmark programs share: wall-clock seconds, medians, and the random-weight ViT they time.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "recipe.h"

namespace peft::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// A `vit` backbone of `variant` with random weights and a `classes`-way head.
inline BackboneSection vit_section(const std::string& variant, std::int64_t classes = 5) {
  BackboneSection backbone;
  backbone.plugin = "vit";
  backbone.context = "bench";
  backbone.options["variant"] = variant;
  backbone.options["num_classes"] = classes;
  return backbone;
}

}  // namespace peft::bench
