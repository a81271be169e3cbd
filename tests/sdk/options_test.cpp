#include "peft/options.h"

#include <catch2/catch.hpp>

namespace {

const std::vector<peft::OptionSpec> kSpecs{
    {"r", peft::OptionType::integer, std::int64_t{8}, "rank"},
    {"alpha", peft::OptionType::number, 8.0, "scale"},
    {"schema", peft::OptionType::string, std::nullopt, "no default"},
    {"mean", peft::OptionType::number_list, std::nullopt, "per channel"},
    {"modules", peft::OptionType::string_list, std::vector<std::string>{"fc2"}, "names"},
};

}  // namespace

CATCH_TEST_CASE("resolved options take given values, fill defaults, and leave default-less ones unset") {
  const auto options = peft::resolve_options(kSpecs, {{"r", std::int64_t{4}}}, "recipe.toml [method.options]");
  CATCH_CHECK(options.get<std::int64_t>("r") == 4);
  CATCH_CHECK(options.get<double>("alpha") == 8.0);
  CATCH_CHECK_FALSE(options.has("schema"));
  CATCH_CHECK(options.get_or<std::string>("schema", "paca") == "paca");
  CATCH_CHECK_THROWS_WITH(options.get<std::string>("schema"),
                          "[options] recipe.toml [method.options]: option 'schema' is not set");
  CATCH_CHECK_THROWS_WITH(options.get<double>("r"), Catch::Contains("option 'r' has another type"));
}

CATCH_TEST_CASE("integers are accepted where numbers are expected, not the other way round") {
  const auto options =
      peft::resolve_options(kSpecs, {{"alpha", std::int64_t{16}}, {"mean", std::vector<std::int64_t>{0, 1, 1}}}, "ctx");
  CATCH_CHECK(options.get<double>("alpha") == 16.0);
  CATCH_CHECK(options.get<std::vector<double>>("mean") == std::vector<double>{0.0, 1.0, 1.0});
  CATCH_CHECK_THROWS_WITH(peft::resolve_options(kSpecs, {{"r", 4.5}}, "ctx"),
                          "[options] ctx: key 'r' must be an integer, got a number");
}

CATCH_TEST_CASE("an empty list ([] in TOML, which has no element type) is the empty list of the option's type") {
  const auto options = peft::resolve_options(kSpecs, {{"modules", std::vector<double>{}}}, "ctx");
  CATCH_CHECK(options.get<std::vector<std::string>>("modules").empty());
  CATCH_CHECK(peft::resolve_options(kSpecs, {{"mean", std::vector<std::string>{}}}, "ctx")
                  .get<std::vector<double>>("mean")
                  .empty());
  CATCH_CHECK_THROWS_WITH(peft::resolve_options(kSpecs, {{"modules", std::vector<double>{1.0}}}, "ctx"),
                          "[options] ctx: key 'modules' must be a list of strings, got a list of numbers");
}

CATCH_TEST_CASE("an unknown key names the allowed ones") {
  CATCH_CHECK_THROWS_WITH(peft::resolve_options(kSpecs, {{"rank", std::int64_t{4}}}, "recipe.toml [method.options]"),
                          "[options] recipe.toml [method.options]: unknown key 'rank', expected one of: r, alpha, "
                          "schema, mean, modules");
}

CATCH_TEST_CASE("option values print as a recipe would write them") {
  CATCH_CHECK(peft::to_string(peft::OptionValue{true}) == "true");
  CATCH_CHECK(peft::to_string(peft::OptionValue{std::int64_t{8}}) == "8");
  CATCH_CHECK(peft::to_string(peft::OptionValue{0.5}) == "0.5");
  CATCH_CHECK(peft::to_string(peft::OptionValue{std::string("paca")}) == "\"paca\"");
  CATCH_CHECK(peft::to_string(peft::OptionValue{std::vector<double>{0.5, 0.25}}) == "[0.5, 0.25]");
  CATCH_CHECK(peft::to_string(peft::OptionValue{std::vector<std::string>{"a", "b"}}) == "[\"a\", \"b\"]");
  CATCH_CHECK(peft::to_string(peft::OptionType::integer_list) == "list of integers");
}

CATCH_TEST_CASE("plugins check ranges and choices with one line naming the context, key and what is allowed") {
  const peft::Options options("recipe.toml [method.options]",
                              {{"r", std::int64_t{0}}, {"p", 1.0}, {"mode", std::string("fast")}});
  CATCH_CHECK_THROWS_WITH(options.integer_at_least("r", 1),
                          "[options] recipe.toml [method.options]: r = 0, expected an integer >= 1");
  CATCH_CHECK_THROWS_WITH(options.number_in("p", 0.0, 1.0),
                          "[options] recipe.toml [method.options]: p = 1, expected a number in [0, 1)");
  CATCH_CHECK_THROWS_WITH(options.one_of("mode", {"full", "lite"}),
                          "[options] recipe.toml [method.options]: mode = \"fast\", expected one of full, lite");
  CATCH_CHECK(options.integer_at_least("r", 0) == 0);
}
