#include "peft/task.h"

#include <cmath>

#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

void Tally::add(const std::string& name, double sum, double weight) {
  Sum& entry = sums_[name];
  entry.sum += sum;
  entry.weight += weight;
}

void Tally::add(const Tally& other) {
  for (const auto& [name, entry] : other.sums_) add(name, entry.sum, entry.weight);
}

double Tally::mean(const std::string& name) const {
  const auto found = sums_.find(name);
  if (found == sums_.end() || found->second.weight == 0.0) return 0.0;
  return found->second.sum / found->second.weight;
}

std::optional<double> metric_value(const MetricValues& values, const std::string& name) {
  for (const auto& [key, value] : values) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::filesystem::path DataRequest::path(const std::string& key) const {
  std::filesystem::path given = options.get<std::string>(key);
  return given.is_relative() ? recipe_folder / given : given;
}

void DataRequest::fail(const std::string& key, const std::string& message) const {
  throw Error("data", options.context_of(key) + ": " + key + " " + message);
}

Task::~Task() = default;

std::string Task::refusal(Backbone& backbone) const {
  const std::vector<std::string> given = provides();
  std::vector<std::string> missing;
  for (const std::string& input : backbone.inputs()) {
    if (std::find(given.begin(), given.end(), input) == given.end()) missing.push_back(input);
  }
  if (!missing.empty()) {
    return "it reads " + join(backbone.inputs()) + ", but the task's batches hold " + join(given) + " (no " +
           join(missing) + ")";
  }
  if (head_policy() == HeadPolicy::new_classifier && backbone.classifier() == nullptr) {
    return "it has no classification head, and the task fits one to the data's classes";
  }
  return "";
}

void Task::check_data(const DataRequest&) const {}

void Task::measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const {
  if (pass != Pass::eval) return;
  const Loss plain = loss(outputs, batch, LossSettings{false, 0.0});
  tally.add("loss", plain.value.item<double>() * plain.weight, plain.weight);
}

MetricValues Task::values(const Tally& tally) const {
  MetricValues result;
  for (const MetricSpec& spec : metrics()) result.emplace_back(spec.name, tally.mean(spec.name));
  return result;
}

MetricSpec find_metric(const Task& task, const std::string& name, const std::string& context) {
  std::vector<std::string> names;
  for (const MetricSpec& spec : task.metrics()) {
    if (spec.name == name) return spec;
    names.push_back(spec.name);
  }
  throw Error("recipe",
              context + ": metric '" + name + "' is not one the task reports, expected one of: " + join(names));
}

}  // namespace peft
