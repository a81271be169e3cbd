// Encode throughput of peft's tokenizer.json reader: loads FILE, encodes every line of TEXTS (one text per line,
// no special tokens) REPEATS times, prints one JSON line: load seconds, encode seconds (best repeat), texts,
// tokens, the resident memory the loaded tokenizer adds and the process's peak (which includes LibTorch's
// libraries, linked through the SDK). bench/tokenizer.sh runs it beside the Rust tokenizers on the same texts.
//
//   build/bin/tokenizer_bench tokenizer.json texts.txt [REPEATS]
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hf_tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Resident memory now (/proc/self/statm), MiB.
double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096.0 / (1024.0 * 1024.0);
}

double peak_resident_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tokenizer_bench TOKENIZER_JSON TEXTS [REPEATS]\n";
    return 1;
  }
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
  std::vector<std::string> texts;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);) texts.push_back(line);

  const double before_mib = resident_mib();
  const auto load_start = std::chrono::steady_clock::now();
  const auto tokenizer = peft::hf::HfTokenizer::from_file(argv[1]);
  const double load_seconds = seconds_since(load_start);
  const double tokenizer_mib = resident_mib() - before_mib;

  double best = 1e300;
  std::size_t tokens = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::size_t count = 0;
    for (const std::string& text : texts) count += tokenizer->encode(text, false).size();
    best = std::min(best, seconds_since(start));
    tokens = count;
  }
  std::cout << nlohmann::json{{"load_seconds", load_seconds},   {"encode_seconds", best},
                              {"texts", texts.size()},          {"tokens", tokens},
                              {"tokenizer_mib", tokenizer_mib}, {"peak_mib", peak_resident_mib()}}
                   .dump()
            << '\n';
  return 0;
}
