#include "inspect.h"

#include "adapted_model.h"
#include "peft/backbone.h"
#include "selector.h"
#include "task_setup.h"

namespace peft {

InspectReport inspect(const Registry& registry, const BackboneSection& backbone,
                      const std::optional<MethodSection>& method, const std::optional<InspectData>& data) {
  InspectReport report;
  report.backbone_plugin = backbone.plugin;
  BuiltBackbone built = build_backbone(registry, backbone);
  bool new_head = true;
  if (data) {
    Recipe recipe = data->recipe;
    recipe.backbone = backbone;
    const ChosenTask task = choose_task(registry, recipe, *built.backbone);
    report.task = task.name;
    new_head = task.task->head_policy() == HeadPolicy::new_classifier;
    std::optional<RunData> read;
    try {
      read = read_run_data(task, recipe, built);
    } catch (const Error& e) {
      const std::string what = new_head
                                   ? "the head is sized as the backbone's (" +
                                         std::to_string(built.backbone->classifier()->num_classes()) + " classes): "
                                   : std::string();
      built.notices.push_back(what + "the data could not be read: " + e.what());
    }
    if (read) {
      if (new_head) {
        fit_head(built, backbone, read->data.num_classes);
        report.num_classes = read->data.num_classes;
      }
      built.notices.insert(built.notices.end(), read->data.notices.begin(), read->data.notices.end());
    }
  }
  report.notices = std::move(built.notices);
  for (const auto& parameter : built.backbone->parameters()) report.backbone_parameters += parameter.numel();

  const std::vector<Site> sites = built.backbone->sites();
  report.site_count = static_cast<std::int64_t>(sites.size());
  std::vector<std::string> names;
  for (const auto& site : sites) names.push_back(site->site_name());
  std::vector<std::string> selected = names;
  std::optional<AdaptedModel> model;
  if (method) {
    report.targets = method->targets;
    report.exclude = method->exclude;
    if (!method->plugin.empty()) {
      report.method_plugin = method->plugin;
      // The method knows its default targets and counts what it trains; attaching changes nothing listed below.
      // An unknown method is adapt's error, the one `peft run` gives.
      model = adapt(registry, built.backbone, *method, new_head);
      selected = model->site_names;
      report.trainable = model->trainable_count();
      report.trainable_head = model->head_count();
      report.merge_refusal = model->method->merge_refusal();
      report.uses_sites = model->method->uses_sites();
    } else if (!method->targets.empty() || !method->exclude.empty()) {
      selected = select_sites(names, method->targets.empty() ? std::vector<std::string>{"**"} : method->targets,
                              method->exclude);
    }
  }
  std::size_t next = 0;
  for (const auto& site : sites) {
    if (next == selected.size() || site->site_name() != selected[next]) continue;
    ++next;
    const std::int64_t parameters = site->weight.numel() + (site->has_bias() ? site->bias.numel() : std::int64_t{0});
    report.sites.push_back(
        {site->site_name(), site->out_features(), site->in_features(), site->has_bias(), parameters});
  }
  return report;
}

}  // namespace peft
