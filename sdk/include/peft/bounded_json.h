#pragma once
/// \file
/// JSON a user hands over (config.json, a data file, a checkpoint's index or header) parsed with a bound on its
/// nesting. nlohmann::json parses iteratively but copies, compares and prints values recursively, so a line of
/// 100,000 nested brackets would end the process on a stack overflow long after it parsed; refusing it while
/// parsing gives a one-line error instead. Header-only, for code that already uses nlohmann::json:
///
///     const nlohmann::json config = peft::parse_bounded_json(in, "llama", file.string());
///     if (config.is_discarded()) throw peft::Error("llama", file.string() + " is not JSON");

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "peft/error.h"

namespace peft {

/// Deeper than any configuration or record needs (transformers' configs nest 3 levels, chat records 4).
inline constexpr int kMaxJsonDepth = 128;

/// A parser callback that refuses nesting deeper than kMaxJsonDepth ("`where`: JSON nested deeper than 128
/// levels", a peft::Error from `component`) and hands every event on to `also` when given.
inline nlohmann::json::parser_callback_t depth_bounded(std::string component, std::string where,
                                                       nlohmann::json::parser_callback_t also = nullptr) {
  return [component = std::move(component), where = std::move(where), also = std::move(also)](
             int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    const bool opens =
        event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) {
      throw Error(component, where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return also ? also(depth, event, parsed) : true;
  };
}

/// `input` (anything nlohmann::json::parse takes) parsed as nlohmann::json::parse(input, nullptr, false) would: a
/// discarded value when it is not JSON; nesting deeper than kMaxJsonDepth is depth_bounded's peft::Error.
template <class Input>
nlohmann::json parse_bounded_json(Input&& input, const std::string& component, const std::string& where) {
  return nlohmann::json::parse(std::forward<Input>(input), depth_bounded(component, where), false);
}

}  // namespace peft
