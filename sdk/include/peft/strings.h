#pragma once
/// \file
/// Text helpers for messages that list things ("expected one of: a, b, c").

#include <string>
#include <string_view>
#include <vector>

#include "peft/api.h"

namespace peft {

/// `items` joined by `separator`: join({"a", "b"}) == "a, b".
PEFT_API std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

/// `text` cut at every `separator`, empty parts kept: split("a..b", '.') == {"a", "", "b"}; split("", ',') == {""}.
PEFT_API std::vector<std::string> split(std::string_view text, char separator);

}  // namespace peft
