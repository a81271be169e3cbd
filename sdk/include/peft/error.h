#pragma once
/// \file
/// The one exception type peft throws for problems a user can fix.

#include <stdexcept>
#include <string>

#include "peft/api.h"

namespace peft {

/// A user-facing error: one line, `[component] what, got X, expected Y (hint: ...)`.
///
/// The `peft` command prints `what()` and exits with code 1. Anything else that escapes is an internal error
/// (exit code 2).
///
///     throw peft::Error("loader", "incompatible plugin API version (plugin 2, host 1): " + path);
class PEFT_API Error : public std::runtime_error {
 public:
  Error(const std::string& component, const std::string& message);
  ~Error() override;

  /// The part in brackets, e.g. `loader`.
  const std::string& component() const noexcept { return component_; }

 private:
  std::string component_;
};

}  // namespace peft
