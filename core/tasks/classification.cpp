#include "tasks/classification.h"

#include <ATen/ATen.h>

namespace peft {

Loss ClassificationTask::loss(const Outputs& outputs, const Batch& batch, const LossSettings& settings) const {
  const at::Tensor& labels = batch.at(keys::labels);
  return {
      at::cross_entropy_loss(outputs.at(keys::logits), labels, {}, at::Reduction::Mean, -100, settings.label_smoothing),
      static_cast<double>(labels.size(0))};
}

void ClassificationTask::measure(const Outputs& outputs, const Batch& batch, Pass pass, Tally& tally) const {
  const at::Tensor logits = outputs.at(keys::logits).detach();
  const at::Tensor& labels = batch.at(keys::labels);
  const auto examples = static_cast<double>(labels.size(0));
  if (pass == Pass::eval) {
    tally.add("loss", at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>(), examples);
  }
  tally.add("top1", static_cast<double>(logits.argmax(1).eq(labels).sum().item<std::int64_t>()), examples);
}

std::vector<MetricSpec> ClassificationTask::metrics() const {
  return {{"top1", true, true, "top-1"}, {"loss", false, false, "loss"}};
}

}  // namespace peft
