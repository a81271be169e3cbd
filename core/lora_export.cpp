#include "lora_export.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "adapter_file.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/lora_config.h"
#include "peft/method.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "run.h"

namespace fs = std::filesystem;

namespace peft {

std::int64_t export_lora(const Registry& registry, const fs::path& run_folder, const fs::path& output, bool overwrite) {
  PreparedRun run = load_run(registry, run_folder, false);
  check_output_folder(output, overwrite, run_inputs(run_folder, run.recipe), "export",
                      {kAdapterTensorsFile, kAdapterConfigFile});
  std::vector<LowRankDelta> deltas = run.model.method->low_rank_deltas();
  // In the run's site order (forward order), whatever order the method keeps them in.
  const auto& sites = run.model.site_names;
  const auto position = [&](const LowRankDelta& delta) {
    const auto found = std::find(sites.begin(), sites.end(), delta.site);
    if (found == sites.end()) {
      throw Error("export", "method '" + run.model.method_name + "' gave factors for " + delta.site +
                                ", which is not one of the run's sites");
    }
    return found - sites.begin();
  };
  for (const auto& delta : deltas) position(delta);
  std::stable_sort(deltas.begin(), deltas.end(),
                   [&](const LowRankDelta& x, const LowRankDelta& y) { return position(x) < position(y); });
  if (deltas.empty()) {
    throw Error("export", "method '" + run.model.method_name +
                              "' has no low-rank form of its adapters (LoRA and GIFT have one); peft merge writes "
                              "the merged model instead");
  }
  LoraConfig config;
  config.r = 0;  // the first site's rank, once its shapes are checked
  NamedTensors tensors;
  std::map<std::string, std::vector<std::int64_t>> weight_shapes;
  for (const auto& [name, tensor] : state_dict(*run.model.backbone)) weight_shapes[name] = tensor.sizes().vec();
  for (const auto& delta : deltas) {
    const std::vector<std::int64_t>& weight = weight_shapes.at(delta.site + ".weight");
    if (delta.b.dim() != 2 || delta.a.dim() != 2 || delta.b.size(0) != weight[0] || delta.a.size(1) != weight[1] ||
        delta.b.size(1) != delta.a.size(0)) {
      std::ostringstream message;
      message << "method '" << run.model.method_name << "' gave factors of shapes " << delta.b.sizes() << " and "
              << delta.a.sizes() << " for " << delta.site << ", whose weight is " << at::IntArrayRef(weight)
              << " (expected [out, r] and [r, in])";
      throw Error("export", message.str());
    }
    const std::int64_t rank = delta.b.size(1);
    if (config.r == 0) config.r = rank;
    if (rank != config.r) {  // its own rank, and lora_alpha = rank so that its scale is 1 too
      config.rank_pattern.emplace_back(delta.site, rank);
      config.alpha_pattern.emplace_back(delta.site, static_cast<double>(rank));
    }
    tensors.emplace_back(delta.site + ".lora_A.weight", delta.a.to(at::kFloat));
    tensors.emplace_back(delta.site + ".lora_B.weight", delta.b.to(at::kFloat));
    config.target_modules.push_back(delta.site);
  }
  config.lora_alpha = static_cast<double>(config.r);  // scale lora_alpha / r = 1: B carries the method's own scale
  for (auto& head : head_tensors(run.model)) tensors.push_back(std::move(head));

  fs::create_directories(output);
  write_safetensors(output / kAdapterTensorsFile, prefixed_for_file(tensors), {{"format", "pt"}});
  write_text_atomically(output / kAdapterConfigFile,
                        adapter_config_text(lora_config_json(config), run.model, run.backbone_weights));
  return config.r;
}

}  // namespace peft
