#pragma once
// RoPE settings from config.json in both of transformers' layouts: 4.x's top-level `rope_theta` + `rope_scaling`,
// and 5.x's `rope_parameters` object (`rope_type`, `rope_theta` and the type's own keys).

#include "llama_config.h"
#include "llama_config_fields.h"

namespace peft::llama {

struct RopeSettings {
  double theta = 10000.0;
  RopeScaling scaling;
};

/// The RoPE settings `config` holds. A rope_type peft does not compute (dynamic, yarn, longrope, ...), a key the
/// type does not take, per-attention-type parameters, or the two layouts disagreeing: a peft::Error naming the key
/// and the value, never a silent default.
RopeSettings read_rope_settings(const ConfigFields& config);

}  // namespace peft::llama
