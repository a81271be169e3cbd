#pragma once
// Several runs' adapters over one loaded backbone, switched without reloading it (Hugging Face peft's
// add_adapter / set_adapter): `peft eval RUN_A RUN_B ...`, `peft generate RUN_A RUN_B ...`.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "run.h"
#include "run_setup.h"

namespace peft {

/// Loads the first run's backbone (and, `with_data`, its data) once; `activate(i)` then attaches run i's method and
/// loads its adapter files, after taking the previous run's off again: its site adapters detached and every backbone
/// tensor its adapter file wrote (a trained head, BitFit's biases, full fine-tuning's weights) put back. The runs must
/// share the backbone (plugin, checkpoint, options, head policy), the task and the [data] table; one that does not
/// is a peft::Error naming it and the first key that differs, before anything loads.
class AdapterSwitch {
 public:
  AdapterSwitch(const Registry& registry, std::vector<std::filesystem::path> runs,
                const std::vector<std::string>& overrides, bool with_data);
  AdapterSwitch(const AdapterSwitch&) = delete;
  AdapterSwitch& operator=(const AdapterSwitch&) = delete;
  ~AdapterSwitch();

  const std::vector<std::filesystem::path>& runs() const { return runs_; }
  /// The loaded backbone, task and data (its model is the backbone with no method).
  PreparedRun& base() { return base_; }
  double load_seconds() const { return load_seconds_; }

  /// Run i's model; `switch_seconds` receives what taking the last one off and putting this one on cost.
  AdaptedModel& activate(std::size_t i, double& switch_seconds);

  /// The backbone with W + Σ weights[i] · B_i A_i on every site (HF peft's add_weighted_adapter, "linear" on the
  /// products): each run's exact low-rank factors (LoRA, GIFT: Method::low_rank_deltas), summed in float32. A run
  /// without them, or with a trained classifier head (no one head is the combination), is a peft::Error naming it.
  AdaptedModel& combine(const std::vector<double>& weights, double& switch_seconds);

 private:
  void deactivate();

  const Registry& registry_;
  std::vector<std::filesystem::path> runs_;
  std::vector<Recipe> recipes_;
  PreparedRun base_;
  double load_seconds_ = 0;
  std::optional<AdaptedModel> active_;
  /// The backbone tensors the active run's adapter wrote, with their values before it.
  std::vector<std::pair<at::Tensor, at::Tensor>> kept_;
  /// The adapters each site had before the active run's method attached.
  std::vector<std::pair<Site, std::vector<const SiteAdapter*>>> before_;
};

/// `RUN:WEIGHT` specs (`--adapter runs/a:0.7`) as run folders and weights; a spec without a finite weight after its
/// last ':' is a peft::Error naming it.
void parse_weighted_adapters(const std::vector<std::string>& specs, std::vector<std::filesystem::path>& runs,
                             std::vector<double>& weights);

/// One run's evaluation and what switching to its adapter cost.
struct NamedEvaluation {
  std::filesystem::path run;
  EvalReport report;
  double switch_seconds = 0;
};

/// Each run of `runs` evaluated over one loaded backbone, the first run's recipe with `overrides` (`--set`
/// assignments; eval_split_override(split) picks the split).
std::vector<NamedEvaluation> evaluate_runs(const Registry& registry, const std::vector<std::filesystem::path>& runs,
                                           const std::vector<std::string>& overrides, double& load_seconds);

}  // namespace peft
