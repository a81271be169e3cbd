#pragma once
// Small text helpers the subcommands share for their terminal output.

#include <cstdint>
#include <string>
#include <vector>

#include "plugin_loader.h"
#include "text_format.h"

namespace peft::cli {

using peft::with_thousands;  // core/text_format.h: 86567656 → "86,567,656"

/// 0.8731 → "87.31%".
std::string percent(double fraction);

/// `rows` as lines of left-aligned columns two spaces apart, each line starting with `indent`.
std::vector<std::string> format_columns(const std::vector<std::vector<std::string>>& rows,
                                        const std::string& indent = "");

/// One warning line on stderr per rejected plugin (commands other than `list`, which shows them itself).
void warn_rejections(const PluginSet& plugins);

}  // namespace peft::cli
