#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>

#include "peft/options.h"
#include "peft/registry.h"

namespace peft::test {

/// The registry of the plugins this build made (its lib/peft/plugins), loaded once per test process; a plugin
/// that fails to load fails the test that asks.
const Registry& builtin_registry();

/// A backbone from the built-in plugin `plugin`, with `given` resolved against its declared options.
std::shared_ptr<Backbone> make_backbone(const std::string& plugin, const std::map<std::string, OptionValue>& given);

/// max |actual - expected| / max |expected|: the relative error the reference fixtures are compared with.
double relative_error(const at::Tensor& actual, const at::Tensor& expected);

}  // namespace peft::test
