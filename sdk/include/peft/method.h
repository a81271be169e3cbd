#pragma once
/// \file
/// The interface a method plugin implements (LoRA, GIFT, ...).

#include "peft/api.h"

namespace peft {

/// A parameter-efficient fine-tuning method, made fresh for each run by its plugin's factory.
///
/// This SDK version defines only its identity across libraries; attaching to sites, trainable parameters,
/// merging and adapter state join it as the runtime grows (each such change raises `PEFT_API_VERSION`).
///
///     class MyMethod final : public peft::Method {};
///     registry.add_method({"my_method", "what it does", [] { return std::make_shared<MyMethod>(); }});
class PEFT_API Method {
 public:
  Method() = default;
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;
  virtual ~Method();
};

}  // namespace peft
