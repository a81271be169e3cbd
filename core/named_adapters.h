#pragma once
// Several runs' adapters over one loaded backbone, switched without reloading it (Hugging Face peft's
// add_adapter / set_adapter): `peft eval RUN_A RUN_B ...`.

#include <filesystem>
#include <string>
#include <vector>

#include "run.h"

namespace peft {

/// One run's evaluation and what switching to its adapter cost.
struct NamedEvaluation {
  std::filesystem::path run;
  EvalReport report;
  /// Attaching the run's method and loading its adapter files into the loaded backbone.
  double switch_seconds = 0;
};

/// Loads the first run's backbone and data once, then for each run attaches its method, loads its adapter files,
/// evaluates on `split` (default: the first run's eval_split) and takes its adapters off again, restoring every
/// backbone tensor the adapter file wrote (a trained head, BitFit's biases, full fine-tuning's weights). The runs
/// must share the backbone (plugin, checkpoint, options, head policy), the task and the [data] table; a run that
/// does not is a peft::Error naming it and the first key that differs. `load_seconds` receives the time the one
/// backbone and data load took.
std::vector<NamedEvaluation> evaluate_runs(const Registry& registry, const std::vector<std::filesystem::path>& runs,
                                           const std::string& split, double& load_seconds);

}  // namespace peft
