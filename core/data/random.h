#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace peft::data {

/// SplitMix64: small, fast, and the same numbers on every platform (the std distributions are not), so data
/// built or augmented from a seed is byte-identical everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  /// A generator for one item of a stream, e.g. (seed, epoch, sample): independent of the order items are drawn.
  static Random for_item(std::uint64_t seed, std::uint64_t stream, std::uint64_t item) {
    Random mix(seed ^ (stream * 0xD1B54A32D192ED03ull));
    for (std::uint64_t i = 0; i < 2; ++i) mix.next();
    return Random(mix.next() ^ (item * 0x9E3779B97F4A7C15ull));
  }

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) without modulo bias; n > 0.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t value = 0;
    do {
      value = next();
    } while (value >= limit);
    return value % n;
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <class T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace peft::data
