#pragma once
/// \file
/// The interface a task implements: what a run learns and how it is scored. A task reads the recipe's `[data]`,
/// turns it into datasets of named batches, says what happens to the backbone's head, computes the training loss
/// from the backbone's outputs and the batch, and reports metrics, each with a direction.
///
///     class NextToken final : public peft::Task {
///      public:
///       std::vector<std::string> provides() const override { return {peft::keys::input_ids, peft::keys::labels}; }
///       peft::HeadPolicy head_policy() const override { return peft::HeadPolicy::backbone_head; }
///       peft::TaskData read_data(const peft::DataRequest& request) override { ... }
///       peft::Loss loss(const peft::Outputs& out, const peft::Batch& batch, const peft::LossSettings&) const override;
///       std::vector<peft::MetricSpec> metrics() const override { return {{"loss", false}, {"perplexity", false}}; }
///       std::string primary_metric() const override { return "perplexity"; }
///     };
///
/// The host registers `image_classification` itself; task plugins add others (`PluginKind::task`). A recipe names
/// its task with `task = "..."`; without one, a backbone that reads images gets `image_classification`. A task's
/// registry entry declares the `[data]` keys it reads as its options; the factory gets no options (they come with
/// each DataRequest).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peft/api.h"
#include "peft/batch.h"
#include "peft/dataset.h"
#include "peft/fwd.h"
#include "peft/options.h"

namespace peft {

struct Preprocessing;

/// One metric a task reports.
struct MetricSpec {
  /// The key in metrics.jsonl and summary.json (`top1`, `loss`, `perplexity`); `[a-z][a-z0-9_]*`.
  std::string name;
  bool higher_is_better = true;
  /// A fraction in [0, 1], shown as a percentage ("84.60 %"); otherwise shown as a number.
  bool percent = false;
  /// How people write it ("top-1"); empty: the name.
  std::string label;

  const std::string& shown() const { return label.empty() ? name : label; }
  /// True when `a` is better than `b` in this metric's direction.
  bool better(double a, double b) const { return higher_is_better ? a > b : a < b; }
};

/// Running sums over an epoch or an evaluation: for each name a sum and the weight it is a sum over (images, target
/// tokens). A metric's value is usually sum / weight; Task::values may compute others from the sums (perplexity).
class PEFT_API Tally {
 public:
  struct Sum {
    double sum = 0.0;
    double weight = 0.0;
  };

  /// Adds `sum` over `weight` items to `name`.
  void add(const std::string& name, double sum, double weight);
  /// Adds every sum of `other`.
  void add(const Tally& other);
  bool has(const std::string& name) const { return sums_.count(name) != 0; }
  /// sum / weight of `name`; 0 when it has no weight or is absent.
  double mean(const std::string& name) const;
  void erase(const std::string& name) { sums_.erase(name); }
  bool empty() const { return sums_.empty(); }
  const std::map<std::string, Sum>& sums() const { return sums_; }

 private:
  std::map<std::string, Sum> sums_;
};

/// Metric values in the order of the task's metrics().
using MetricValues = std::vector<std::pair<std::string, double>>;

/// The value called `name` in `values`, or nothing.
PEFT_API std::optional<double> metric_value(const MetricValues& values, const std::string& name);

/// What Task::loss returns: the value to minimise, a mean over `weight` items.
struct Loss {
  at::Tensor value;
  double weight = 0.0;
};

/// How the loss is wanted: the training objective, or the plain loss evaluation reports.
struct LossSettings {
  bool training = true;
  /// `[train] label_smoothing` while training; 0 in evaluation.
  double label_smoothing = 0.0;
};

/// Where Task::measure is called from.
enum class Pass { train, eval };

/// What becomes of the backbone's output head.
enum class HeadPolicy {
  /// A classification head sized from the data's classes (TaskData::num_classes), fresh unless the checkpoint's
  /// fits and `[backbone] head = "keep"`; it trains when the method trains heads (every classification method).
  new_classifier,
  /// The backbone's own head as loaded (a language model's LM head); it does not train.
  backbone_head,
};

/// What a task reads its data from: the recipe's `[data]` keys the task declared (its registry entry's options),
/// resolved, with where each was written, and what it may need of the run.
struct PEFT_API DataRequest {
  Options options;
  /// Relative paths in `options` are relative to this folder.
  std::filesystem::path recipe_folder;
  std::uint64_t seed = 0;
  /// The run's backbone (its tokenizer, its capabilities).
  Backbone* backbone = nullptr;
  /// How images must be prepared: the backbone's, with what its checkpoint folder sets; nullptr when the backbone
  /// reads no images.
  const Preprocessing* preprocessing = nullptr;

  /// `options`'s path `key` (a string) made absolute against `recipe_folder`.
  std::filesystem::path path(const std::string& key) const;
  /// A peft::Error "[data] <where key was written>: <key> <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
};

/// A task's data, ready for the loader.
struct TaskData {
  std::shared_ptr<Dataset> train;
  std::shared_ptr<Dataset> eval;
  /// Split names, for messages and records ("train800val200", "test").
  std::string train_split;
  std::string eval_split;
  /// Classes a new classifier head needs (HeadPolicy::new_classifier); 0 otherwise.
  std::int64_t num_classes = 0;
  /// What the user should know about how the data was read.
  std::vector<std::string> notices;
};

class PEFT_API Task {
 public:
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  virtual ~Task();

  /// The names its batches hold (`images`, `labels`). A backbone that reads a name not among them is refused.
  virtual std::vector<std::string> provides() const = 0;
  /// Empty when the task can run on `backbone`; else why not, in a few words about the backbone ("it reads
  /// input_ids, but ..."; the host names the backbone and task). Default: empty when every input the backbone reads
  /// is provided (and, for HeadPolicy::new_classifier, the backbone has a classifier head).
  virtual std::string refusal(Backbone& backbone) const;
  virtual HeadPolicy head_policy() const = 0;

  /// Reads both splits. Every problem is a peft::Error naming the file, or the `[data]` key (DataRequest::fail).
  virtual TaskData read_data(const DataRequest& request) = 0;
  /// Checks the request's values without reading any file, so that a sweep can refuse a bad grid point before it
  /// starts. Default: nothing to check beyond the option types.
  virtual void check_data(const DataRequest& request) const;

  /// The loss of `outputs` for `batch`. The host adds the method's extra loss to the training objective.
  virtual Loss loss(const Outputs& outputs, const Batch& batch, const LossSettings& settings) const = 0;
  /// Adds one batch's metric sums to `tally`. In Pass::eval the task adds `loss` too; in Pass::train the host
  /// records `loss` itself (the objective it stepped on), so add only the others. Default: the eval loss.
  virtual void measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const;

  /// The metrics it reports, `loss` among them, in the order they are shown.
  virtual std::vector<MetricSpec> metrics() const = 0;
  /// The metric that picks the best epoch and, by default, a sweep's configuration; one of metrics().
  virtual std::string primary_metric() const = 0;
  /// The values of metrics() from `tally`. Default: each one's sum / weight.
  virtual MetricValues values(const Tally& tally) const;

  /// What one example is, plural, for messages and rates ("images": `images_per_s`). Default: "examples".
  virtual std::string unit() const { return "examples"; }
};

/// The spec of `name` among `task`'s metrics, or a peft::Error naming `context` and the metrics there are.
PEFT_API MetricSpec find_metric(const Task& task, const std::string& name, const std::string& context);

}  // namespace peft
