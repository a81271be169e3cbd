#include "support/run_folder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
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

namespace {

// Empty when `a` and `b` are the same JSON up to `rtol` in their numbers; else where they differ.
std::string json_difference(const nlohmann::json& a, const nlohmann::json& b, double rtol, const std::string& at) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    if (std::abs(x - y) <= rtol * std::max(std::abs(x), std::abs(y)) + 1e-12) return {};
    return at + ": " + std::to_string(x) + " against " + std::to_string(y);
  }
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size()) return at + ": " + a.dump() + " against " + b.dump();
    for (const auto& [key, value] : a.items()) {
      if (!b.contains(key)) return at + "." + key + " is missing";
      if (auto d = json_difference(value, b.at(key), rtol, at + "." + key); !d.empty()) return d;
    }
    return {};
  }
  return a == b ? std::string() : at + ": " + a.dump() + " against " + b.dump();
}

}  // namespace

void check_close_runs(const fs::path& one, const fs::path& other, double rtol, double atol) {
  CATCH_INFO(one.string() + " against " + other.string());
  const auto a = read_json(one / "summary.json");
  const auto b = read_json(other / "summary.json");
  CATCH_CHECK(json_difference(a["final"], b["final"], rtol, "final") == "");
  CATCH_CHECK(json_difference(a["best"], b["best"], rtol, "best") == "");
  const auto x = read_safetensors(one / "adapter_model.safetensors");
  const auto y = read_safetensors(other / "adapter_model.safetensors");
  CATCH_REQUIRE(x.tensors.size() == y.tensors.size());
  for (std::size_t i = 0; i < x.tensors.size(); ++i) {
    CATCH_INFO(x.tensors[i].first);
    CATCH_CHECK(x.tensors[i].first == y.tensors[i].first);
    CATCH_CHECK((x.tensors[i].second - y.tensors[i].second).abs().max().item<double>() <= atol);
  }
  const auto p = metric_records(one);
  const auto q = metric_records(other);
  CATCH_REQUIRE(p.size() == q.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    CATCH_CHECK(json_difference(p[i], q[i], rtol, "metrics.jsonl line " + std::to_string(i + 1)) == "");
  }
}

}  // namespace peft::test
