#include "tasks/image_classification.h"

#include <ATen/ATen.h>

#include "data/data_plan.h"
#include "data/image_dataset.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "peft/task.h"
#include "tasks/classification.h"

namespace peft {
namespace {

class ImageClassification final : public ClassificationTask {
 public:
  std::vector<std::string> provides() const override { return {keys::images, keys::labels}; }

  std::string refusal(Backbone& backbone) const override {
    if (backbone.image_input() != nullptr && backbone.classifier() != nullptr) return Task::refusal(backbone);
    std::string reason = "it reads " + join(backbone.inputs());
    if (backbone.classifier() == nullptr) reason += " and has no classification head";
    return reason + "; image classification gives it images and fits a classifier head";
  }

  TaskData read_data(const DataRequest& request) override {
    data::DataPlan plan = data::plan_data(request);
    if (plan.eval.num_classes != plan.train.num_classes) {
      throw Error("data", request.options.context() + ": the training split has " +
                              std::to_string(plan.train.num_classes) + " classes but the evaluation split " +
                              std::to_string(plan.eval.num_classes));
    }
    TaskData result;
    result.num_classes = plan.train.num_classes;
    result.train = std::make_shared<data::ImageDataset>(std::move(plan.train), plan.train_images);
    result.eval = std::make_shared<data::ImageDataset>(std::move(plan.eval), plan.eval_images);
    result.train_split = plan.train_split;
    result.eval_split = plan.eval_split;
    result.notices = std::move(plan.notices);
    return result;
  }

  void check_data(const DataRequest& request) const override { data::data_settings(request); }

  std::string unit() const override { return "images"; }
};

}  // namespace

void register_image_classification(Registry& registry) {
  registry.add_task(
      {kImageClassification, "Image classification (VTAB-1k, FGVC, ImageFolder): a new head, cross-entropy, top-1",
       [](const Options&) { return std::make_shared<ImageClassification>(); }, data::image_data_option_specs()});
}

}  // namespace peft
