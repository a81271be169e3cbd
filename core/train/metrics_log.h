#pragma once
// The metrics sink: `metrics.jsonl` records, and the metric values as text and JSON.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/task.h"

namespace peft {

/// Appends one JSON record per line to a run folder's metrics.jsonl, flushed each time; a failed write (a full
/// disk) is a peft::Error naming the file.
class MetricsLog {
 public:
  explicit MetricsLog(std::filesystem::path folder);
  void append(const nlohmann::json& record) const;

 private:
  std::filesystem::path file_;
};

/// Adds each value to `record` as `prefix + name` (`train_top1`).
void put_metrics(nlohmann::json& record, const MetricValues& values, const std::string& prefix = "");

/// One value as people read it: "84.60%" for a percent metric, "0.5612" otherwise.
std::string metric_text(const MetricSpec& spec, double value);

/// "top-1 84.60%  loss 0.5612": `values` in `specs`' order, with `first` (when given) moved to the front.
std::string metrics_text(const std::vector<MetricSpec>& specs, const MetricValues& values,
                         const std::string& first = "");

}  // namespace peft
