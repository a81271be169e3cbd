#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "exit_code.h"
#include "format.h"
#include "inspect.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "plugin_loader.h"

namespace peft::cli {
namespace {

// The model part of the recipe, or of the flags alone; flags override the recipe.
struct ModelSections {
  BackboneSection backbone;
  std::optional<MethodSection> method;
  std::optional<InspectData> data;
};

ModelSections model_sections(const InspectOptions& options) {
  BackboneSection backbone;
  std::optional<MethodSection> method;
  std::optional<InspectData> data;
  if (!options.recipe.empty()) {
    Recipe recipe = load_recipe(options.recipe, options.overrides);
    backbone = recipe.backbone;
    method = recipe.method;
    if (recipe.data) data = InspectData{std::move(recipe)};
  } else {
    if (options.backbone.empty()) {
      throw Error("inspect",
                  "give a recipe, or --backbone PLUGIN (e.g. peft inspect --backbone vit --variant "
                  "vit_base_patch16_224)");
    }
    if (!options.overrides.empty()) throw Error("inspect", "--set needs a recipe to override");
    backbone.context = "command line";
  }
  if (!options.backbone.empty()) backbone.plugin = options.backbone;
  if (!options.variant.empty()) {
    backbone.options["variant"] = options.variant;
    backbone.option_contexts["variant"] = "--variant";
  }
  if (!options.checkpoint.empty()) backbone.checkpoint = options.checkpoint;
  if (!options.targets.empty() || !options.exclude.empty()) {
    if (!method) method.emplace();
    if (!options.targets.empty()) method->targets = options.targets;
    if (!options.exclude.empty()) method->exclude = options.exclude;
  }
  return {std::move(backbone), std::move(method), std::move(data)};
}

nlohmann::json to_json(const InspectReport& report) {
  nlohmann::json sites = nlohmann::json::array();
  std::int64_t selected_parameters = 0;
  for (const auto& site : report.sites) {
    sites.push_back({{"name", site.name},
                     {"shape", {site.out_features, site.in_features}},
                     {"bias", site.has_bias},
                     {"parameters", site.parameters}});
    selected_parameters += site.parameters;
  }
  nlohmann::json out{{"backbone", {{"plugin", report.backbone_plugin}, {"parameters", report.backbone_parameters}}},
                     {"site_count", report.site_count},
                     {"targets", report.targets},
                     {"exclude", report.exclude},
                     {"sites", sites},
                     {"selected_site_parameters", selected_parameters},
                     {"notices", report.notices},
                     {"task", report.task ? nlohmann::json(*report.task) : nlohmann::json()},
                     {"num_classes", report.num_classes ? nlohmann::json(*report.num_classes) : nlohmann::json()}};
  out["method"] = nullptr;
  if (report.method_plugin) {
    out["method"] = {{"plugin", *report.method_plugin}, {"loaded", true}};
    if (report.trainable) {
      out["method"]["trainable"] = *report.trainable;
      out["method"]["trainable_head"] = *report.trainable_head;
      out["method"]["mergeable"] = report.merge_refusal.empty();
    }
  }
  return out;
}

void print_report(const InspectReport& report) {
  for (const auto& notice : report.notices) std::cout << "note: " << notice << '\n';
  std::cout << "backbone  " << report.backbone_plugin << ", " << with_thousands(report.backbone_parameters)
            << " parameters, " << report.site_count << " sites";
  if (report.num_classes) std::cout << ", head for the data's " << *report.num_classes << " classes";
  std::cout << '\n';
  if (report.method_plugin) {
    std::cout << "method    " << *report.method_plugin;
    if (report.trainable) {
      const double share = static_cast<double>(*report.trainable) / static_cast<double>(report.backbone_parameters);
      std::cout << ", " << with_thousands(*report.trainable) << " trainable parameters (" << percent(share)
                << " of the backbone; " << with_thousands(*report.trainable - *report.trainable_head)
                << " without the head), " << (report.merge_refusal.empty() ? "mergeable" : "does not merge");
    }
    std::cout << '\n';
  }
  if (!report.targets.empty()) std::cout << "targets   " << join(report.targets, ", ") << '\n';
  if (!report.exclude.empty()) std::cout << "exclude   " << join(report.exclude, ", ") << '\n';

  std::int64_t parameters = 0;
  std::vector<std::vector<std::string>> rows{{"SITE", "SHAPE", "BIAS", "PARAMETERS"}};
  for (const auto& site : report.sites) {
    rows.push_back({site.name, "[" + std::to_string(site.out_features) + ", " + std::to_string(site.in_features) + "]",
                    site.has_bias ? "yes" : "no", with_thousands(site.parameters)});
    parameters += site.parameters;
  }
  if (!report.uses_sites) {
    std::cout << "sites     none: " << *report.method_plugin << " trains the head only (of " << report.site_count
              << " sites)\n";
    return;
  }
  std::cout << report.sites.size() << " of " << report.site_count << " sites selected, " << with_thousands(parameters)
            << " parameters in their weights and biases:\n";
  for (const auto& line : format_columns(rows, "  ")) std::cout << line << '\n';
}

}  // namespace

int run_inspect_command(const GlobalOptions& global, const InspectOptions& options) {
  const ModelSections sections = model_sections(options);
  const PluginSet plugins = discover_plugins(global.plugin_paths, global.strict);
  warn_rejections(plugins);
  const InspectReport report = inspect(plugins.registry, sections.backbone, sections.method, sections.data);
  if (options.json) {
    std::cout << to_json(report).dump(2) << '\n';
  } else {
    print_report(report);
  }
  return kSuccess;
}

}  // namespace peft::cli
