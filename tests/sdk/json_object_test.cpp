#include "peft/json_object.h"

#include <catch2/catch.hpp>

CATCH_TEST_CASE("JsonObject escapes strings, keeps key order and replaces a key added twice") {
  peft::JsonObject inner;
  inner.add("shape", "64x64").add("layers", 12);
  const std::string text = peft::JsonObject()
                               .add("name", std::string("q\"uote\\d\n"))
                               .add("rank", std::int64_t{8})
                               .add("alpha", 0.5)
                               .add("rslora", true)
                               .add("targets", std::vector<std::string>{"q_proj", "v_proj"})
                               .add("group", inner)
                               .add("groups", std::vector<peft::JsonObject>{inner, inner})
                               .add_null("revision")
                               .add("rank", std::int64_t{4})
                               .text();
  CATCH_CHECK(text == R"({"name":"q\"uote\\d\n","rank":4,"alpha":0.5,"rslora":true,"targets":["q_proj","v_proj"],)"
                      R"("group":{"shape":"64x64","layers":12},"groups":[{"shape":"64x64","layers":12},)"
                      R"({"shape":"64x64","layers":12}],"revision":null})");
  CATCH_CHECK(peft::JsonObject().text() == "{}");
  CATCH_CHECK(peft::JsonObject().add("a", 1).text(2) == "{\n  \"a\": 1\n}");
  CATCH_CHECK(peft::JsonObject().add("a", 1).contains("a"));
  CATCH_CHECK_FALSE(peft::JsonObject().add("a", 1).contains("b"));
}
