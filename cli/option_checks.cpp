#include "option_checks.h"

#include <cmath>
#include <cstdlib>

namespace peft::cli {

CLI::Validator finite_number_in(double low, double high, bool low_open) {
  const std::string range =
      std::string(low_open ? "(" : "[") + CLI::detail::to_string(low) + ", " + CLI::detail::to_string(high) + "]";
  return CLI::Validator(
      [=](std::string& input) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(input.c_str(), &end);
        const bool parsed = !input.empty() && end == input.c_str() + input.size();
        const bool inside = parsed && std::isfinite(value) && (low_open ? value > low : value >= low) && value <= high;
        return inside ? std::string() : input + " is not a number in " + range;
      },
      "NUMBER in " + range);
}

CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const bool digits = !input.empty() && input.find_first_not_of("0123456789") == std::string::npos;
        return digits && input.size() <= 19 ? std::string() : input + " is not an integer in [0, 10^19)";
      },
      "INTEGER >= 0");
}

}  // namespace peft::cli
