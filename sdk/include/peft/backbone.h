#pragma once
/// \file
/// The interface a backbone plugin implements (ViT, ...).

#include "peft/api.h"

namespace peft {

/// A pretrained model that methods adapt, made by its plugin's factory.
///
/// This SDK version defines only its identity across libraries; sites, taps, checkpoints and the forward pass
/// join it as the runtime grows (each such change raises `PEFT_API_VERSION`).
class PEFT_API Backbone {
 public:
  Backbone() = default;
  Backbone(const Backbone&) = delete;
  Backbone& operator=(const Backbone&) = delete;
  virtual ~Backbone();
};

}  // namespace peft
