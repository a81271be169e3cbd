#pragma once
// Reading a run folder back in tests: its JSON files, its metrics without timings, and whether two runs ended alike.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace peft::test {

nlohmann::json read_json(const std::filesystem::path& file);

/// metrics.jsonl's records without their timings (`seconds`, `images_per_s` and the other units' rates), in order.
std::vector<nlohmann::json> metric_records(const std::filesystem::path& run);

/// Checks (Catch) that two finished runs hold the same final and best evaluation, identical adapter tensors and the
/// same metrics records: what an uninterrupted and an interrupted-then-resumed run must share.
void check_same_run(const std::filesystem::path& whole, const std::filesystem::path& parts);

/// check_same_run up to floating-point summation order (a data-parallel run sums its gradients and metrics in
/// another order): the same records and keys, every number within `rtol` relative (or 1e-12), every adapter tensor
/// within `atol`.
void check_close_runs(const std::filesystem::path& one, const std::filesystem::path& other, double rtol, double atol);

}  // namespace peft::test
