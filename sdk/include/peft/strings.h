#pragma once
/// \file
/// Text helpers for messages that list things ("expected one of: a, b, c"), and module names.

#include <string>
#include <string_view>
#include <vector>

#include "peft/api.h"

namespace peft {

/// `items` joined by `separator`: join({"a", "b"}) == "a, b".
PEFT_API std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

/// `text` cut at every `separator`, empty parts kept: split("a..b", '.') == {"a", "", "b"}; split("", ',') == {""}.
PEFT_API std::vector<std::string> split(std::string_view text, char separator);

/// Whether `name` is the module `module` names as Hugging Face peft's target_modules lists do: the whole name, or a
/// run of its trailing segments. names_module("model.layers.0.mlp.down_proj", "mlp.down_proj") is true;
/// names_module("model.layers.0.mlp.down_proj", "proj") is false.
PEFT_API bool names_module(std::string_view name, std::string_view module);

}  // namespace peft
