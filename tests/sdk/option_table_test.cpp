#include "peft/option_table.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace {

struct ToyOptions {
  enum class Kind { small, large };
  std::int64_t rank = 4;
  double dropout = 0.0;
  double scale = 1.0;
  std::vector<double> mean{0.5, 0.5};
  Kind kind = Kind::small;
  std::optional<std::int64_t> width;
};

const peft::OptionTable<ToyOptions>& toy_table() {
  using O = ToyOptions;
  static const auto table =
      peft::OptionTable<O>()
          .add("rank", &O::rank, "rank")
          .at_least(1)
          .add("dropout", &O::dropout, "dropout")
          .in_range(0.0, 1.0)
          .add("scale", &O::scale, "scale")
          .add("mean", &O::mean, "per channel")
          .add_choice("kind", &O::kind, {{"small", O::Kind::small}, {"large", O::Kind::large}}, "size")
          .add("width", &O::width, "width")
          .alias("hidden_width")
          .check([](const O& options, const peft::Options& context) {
            if (options.width && *options.width % options.rank != 0) {
              throw peft::Error("toy", context.context() + ": width must divide by rank");
            }
          });
  return table;
}

ToyOptions read(const std::map<std::string, peft::OptionValue>& given) {
  const auto& table = toy_table();
  return table.read(peft::resolve_options(table.specs(), given, "toy.toml [method.options]"));
}

}  // namespace

CATCH_TEST_CASE("an option table declares each key once: types and defaults from the struct, docs with the range") {
  const auto specs = toy_table().specs();
  CATCH_REQUIRE(specs.size() == 6);
  CATCH_CHECK(specs[0].name == "rank");
  CATCH_CHECK(specs[0].type == peft::OptionType::integer);
  CATCH_CHECK(std::get<std::int64_t>(*specs[0].default_value) == 4);
  CATCH_CHECK(specs[0].doc == "rank (>= 1)");
  CATCH_CHECK(specs[1].doc == "dropout (in [0, 1))");
  CATCH_CHECK(specs[3].type == peft::OptionType::number_list);
  CATCH_CHECK(specs[4].type == peft::OptionType::string);
  CATCH_CHECK(std::get<std::string>(*specs[4].default_value) == "small");
  CATCH_CHECK(specs[4].doc == "size (small | large)");
  CATCH_CHECK_FALSE(specs[5].default_value.has_value());  // std::optional: unset unless given
  CATCH_CHECK(specs[5].aliases == std::vector<std::string>{"hidden_width"});
}

CATCH_TEST_CASE("an option table fills the struct, maps choices onto the enum, and checks ranges and rules") {
  const ToyOptions defaults = read({});
  CATCH_CHECK(defaults.rank == 4);
  CATCH_CHECK(defaults.kind == ToyOptions::Kind::small);
  CATCH_CHECK_FALSE(defaults.width.has_value());

  const ToyOptions given =
      read({{"rank", std::int64_t{2}}, {"kind", std::string("large")}, {"width", std::int64_t{8}}});
  CATCH_CHECK(given.rank == 2);
  CATCH_CHECK(given.kind == ToyOptions::Kind::large);
  CATCH_CHECK(given.width == 8);

  CATCH_CHECK_THROWS_WITH(read({{"rank", std::int64_t{0}}}),
                          "[options] toy.toml [method.options]: rank = 0, expected an integer >= 1");
  CATCH_CHECK_THROWS_WITH(read({{"dropout", 1.0}}), Catch::Contains("dropout = 1, expected a number in [0, 1)"));
  CATCH_CHECK_THROWS_WITH(read({{"kind", std::string("medium")}}),
                          Catch::Contains("kind = \"medium\", expected one of small, large"));
  CATCH_CHECK_THROWS_WITH(read({{"width", std::int64_t{6}}}), Catch::Contains("width must divide by rank"));
}

CATCH_TEST_CASE("nan and inf are refused for every number option, in lists too") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CATCH_CHECK_THROWS_WITH(read({{"scale", nan}}), Catch::Contains("scale = nan, expected a finite number"));
  CATCH_CHECK_THROWS_WITH(read({{"scale", -inf}}), Catch::Contains("scale = -inf, expected a finite number"));
  CATCH_CHECK_THROWS_WITH(read({{"dropout", nan}}), Catch::Contains("dropout = nan"));
  CATCH_CHECK_THROWS_WITH(read({{"mean", std::vector<double>{0.5, inf}}}),
                          Catch::Contains("mean = [0.5, inf], expected finite numbers"));
}

CATCH_TEST_CASE("an alias lands under the option's name, and giving both names is an error") {
  CATCH_CHECK(read({{"hidden_width", std::int64_t{8}}}).width == 8);
  CATCH_CHECK_THROWS_WITH(read({{"hidden_width", std::int64_t{8}}, {"width", std::int64_t{8}}}),
                          Catch::Contains("sets 'width' a second time"));
}

CATCH_TEST_CASE("an option table writes a struct back as the recipe values that make it") {
  ToyOptions options;
  options.kind = ToyOptions::Kind::large;
  const auto values = toy_table().values(options);
  CATCH_CHECK(std::get<std::string>(values.at("kind")) == "large");
  CATCH_CHECK(std::get<std::int64_t>(values.at("rank")) == 4);
  CATCH_CHECK(values.count("width") == 0);  // unset optional
  const auto& table = toy_table();
  const ToyOptions back = table.read(peft::resolve_options(table.specs(), values, "ctx"));
  CATCH_CHECK(back.kind == ToyOptions::Kind::large);
}
