#pragma once
// Checks on command-line values that CLI11's own do not make: a NaN passes CLI::Range (every comparison with it is
// false), and an unsigned option takes "-1" as 2^64 - 1.

#include <CLI/CLI.hpp>
#include <string>

namespace peft::cli {

/// A finite number in [low, high], or (low, high] with `low_open`: "--top-p: nan is not a number in (0, 1]".
CLI::Validator finite_number_in(double low, double high, bool low_open = false);

/// Digits only: a seed or a count that cannot be negative.
CLI::Validator non_negative_integer();

}  // namespace peft::cli
