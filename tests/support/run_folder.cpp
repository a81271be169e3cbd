#include "support/run_folder.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft::test {

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

std::vector<nlohmann::json> metric_records(const fs::path& run) {
  std::vector<nlohmann::json> kept;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto record = nlohmann::json::parse(line);
    record.erase("seconds");
    for (const auto& key : {"images_per_s", "sequences_per_s", "examples_per_s"}) record.erase(key);
    kept.push_back(record);
  }
  return kept;
}

void check_same_run(const fs::path& whole, const fs::path& parts) {
  CATCH_INFO(whole.string() + " against " + parts.string());
  const auto a = read_json(whole / "summary.json");
  const auto b = read_json(parts / "summary.json");
  CATCH_CHECK(a["final"] == b["final"]);
  CATCH_CHECK(a["best"] == b["best"]);
  const auto x = read_safetensors(whole / "adapter_model.safetensors");
  const auto y = read_safetensors(parts / "adapter_model.safetensors");
  CATCH_REQUIRE(x.tensors.size() == y.tensors.size());
  for (std::size_t i = 0; i < x.tensors.size(); ++i) CATCH_CHECK(at::equal(x.tensors[i].second, y.tensors[i].second));
  CATCH_CHECK(metric_records(whole) == metric_records(parts));
}

}  // namespace peft::test
