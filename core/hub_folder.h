#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>

#include "peft/backbone.h"
#include "peft/registry.h"
#include "recipe.h"

namespace peft {

/// The preprocessing keys of a hub folder's `pretrained_cfg`; each one it sets replaces the backbone's default.
struct PretrainedCfg {
  std::optional<std::array<double, 3>> mean;
  std::optional<std::array<double, 3>> std;
  std::optional<std::string> interpolation;
  std::optional<double> crop_pct;

  Preprocessing over(Preprocessing defaults) const;
  bool empty() const { return !mean && !std && !interpolation && !crop_pct; }
};

/// A timm hub folder (what `save_pretrained`, `push_to_hub` and the hub cache hold): config.json and
/// model.safetensors, or Hugging Face's sharded layout (model.safetensors.index.json and the shards it names).
struct HubFolder {
  /// model.safetensors, or the index of the shards (what the run's adapter record fingerprints).
  std::filesystem::path weights;
  std::filesystem::path config_file;
  PretrainedCfg pretrained_cfg;
};

/// Reads `folder`/config.json and finds `folder`/model.safetensors. Fills the options `section` leaves unset from it,
/// as timm's `create_model` does: `architecture` → variant, `model_args` → the options of those names,
/// `pretrained_cfg.input_size` → img_size. Every malformed value, and a model_args key the backbone has no option
/// for, is a peft::Error naming config.json and the key.
HubFolder read_hub_folder(const std::filesystem::path& folder, BackboneSection& section, const BackboneEntry& entry);

}  // namespace peft
