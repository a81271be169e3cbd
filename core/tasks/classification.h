#pragma once
// What every classification task shares (image_classification, text_classification): a new classifier head, and
// cross-entropy over `logits` [B, classes] against `labels` [B] with top-1 and loss.

#include <string>
#include <vector>

#include "peft/task.h"

namespace peft {

class ClassificationTask : public Task {
 public:
  HeadPolicy head_policy() const override { return HeadPolicy::new_classifier; }
  /// Mean cross-entropy with the settings' label smoothing, weighted by the examples.
  Loss loss(const Outputs& outputs, const Batch& batch, const LossSettings& settings) const override;
  /// top1 (both passes) and the summed loss (evaluation).
  void measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const override;
  /// top1 (primary, percent) and loss.
  std::vector<MetricSpec> metrics() const override;
  std::string primary_metric() const override { return "top1"; }
};

}  // namespace peft
