#pragma once
/// \file
/// The interface a method plugin implements (LoRA, GIFT, ...).

#include "peft/api.h"
#include "peft/fwd.h"

namespace peft {

/// A parameter-efficient fine-tuning method, made fresh for each run by its plugin's factory.
///
/// Attaching to sites, trainable parameters, merging and adapter state join this interface with the trainer
/// (each such change raises `PEFT_API_VERSION`).
///
///     class MyMethod final : public peft::Method {};
///     registry.add_method({"my_method", "what it does", [](const peft::Options&) {
///       return std::make_shared<MyMethod>();
///     }});
class PEFT_API Method {
 public:
  Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;
  virtual ~Method();
};

}  // namespace peft
