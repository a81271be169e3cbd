#include "train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "peft/error.h"
#include "run_files.h"
#include "text_format.h"

namespace peft {

MetricsLog::MetricsLog(std::filesystem::path folder) : file_(std::move(folder) / kMetricsFile) {}

void MetricsLog::append(const nlohmann::json& record) const {
  std::ofstream out(file_, std::ios::app);
  out << record.dump() << '\n';
  out.flush();
  if (!out) throw Error("output", "cannot append to " + file_.string() + ": " + std::strerror(errno) + " (disk full?)");
}

void put_metrics(nlohmann::json& record, const MetricValues& values, const std::string& prefix) {
  for (const auto& [name, value] : values) record[prefix + name] = value;
}

std::string metric_text(const MetricSpec& spec, double value) {
  return spec.percent ? fixed(100.0 * value, 2) + "%" : fixed(value, 4);
}

std::string metrics_text(const std::vector<MetricSpec>& specs, const MetricValues& values, const std::string& first) {
  std::vector<const MetricSpec*> order;
  for (const MetricSpec& spec : specs) {
    if (spec.name == first)
      order.insert(order.begin(), &spec);
    else
      order.push_back(&spec);
  }
  std::string text;
  for (const MetricSpec* spec : order) {
    const auto value = metric_value(values, spec->name);
    if (!value) continue;
    text += (text.empty() ? "" : "  ") + spec->shown() + " " + metric_text(*spec, *value);
  }
  return text;
}

}  // namespace peft
