#pragma once
// The contract every method plugin keeps, as checks that report instead of asserting: `peft test-plugin` runs them
// on an installed or out-of-tree plugin, and the test suite on every built-in method.
//
// On each fixture backbone (a tiny ViT, an MLP without transformer taps, a tiny causal LM whose LM head stays
// frozen) a method must: refuse a backbone it cannot adapt, saying why; start equal to the backbone when it says it
// does; train exactly its own tensors (and the new head); give the same outputs merged as unmerged, and again after
// unmerging (or refuse to merge with a peft::Error); and round-trip its adapter file.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peft/backbone.h"
#include "peft/batch.h"
#include "peft/options.h"
#include "peft/registry.h"

namespace peft::contract {

/// A backbone the suite adapts, with a batch it reads.
struct FixtureBackbone {
  std::string name;
  /// A fresh backbone; the global seed decides its weights.
  std::function<std::shared_ptr<Backbone>()> make;
  Batch batch;
  /// Whether a method's classifier head trains with it: a new classifier head does, an LM head does not.
  bool head_trains = true;
};

/// The tiny ViT (from `backbones`' `vit` plugin; left out when it has none), the MLP and the tiny LM.
std::vector<FixtureBackbone> fixture_backbones(const Registry& backbones);

/// One check of one method on one backbone; `failure` is empty when it held.
struct CheckResult {
  std::string method;
  std::string backbone;
  std::string check;
  std::string failure;

  bool passed() const { return failure.empty(); }
};

/// Runs the contract on `methods`' method `method`, with `options` over its defaults and every site targeted, on
/// each of `backbones`. Never throws for what the plugin does: an exception from it fails the check that was running
/// (an option the method does not have or cannot take fails "is made with the options given").
/// With `keep_configs`, the adapter files (config and tensors) the method writes on each backbone are also copied to
/// `keep_configs`/METHOD/BACKBONE/ (spaces in names as '_'), for other tools to check.
std::vector<CheckResult> check_method(const Registry& methods, const std::string& method,
                                      const std::vector<FixtureBackbone>& backbones,
                                      const std::map<std::string, OptionValue>& options = {},
                                      const std::filesystem::path& keep_configs = {});

}  // namespace peft::contract
