#include "peft/strings.h"

#include <catch2/catch.hpp>

CATCH_TEST_CASE("split keeps empty parts and join puts them back") {
  CATCH_CHECK(peft::split("blocks.3.attn", '.') == std::vector<std::string>{"blocks", "3", "attn"});
  CATCH_CHECK(peft::split("a..b.", '.') == std::vector<std::string>{"a", "", "b", ""});
  CATCH_CHECK(peft::split("", ':') == std::vector<std::string>{""});
  CATCH_CHECK(peft::join(peft::split("a:b::c", ':'), ":") == "a:b::c");
  CATCH_CHECK(peft::join({"x", "y"}) == "x, y");
}
