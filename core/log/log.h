#pragma once
// peft's messages on stderr ("peft: debug: loaded method 'lora' ..."), through spdlog. They are a library of their
// own (peft_log), built without LibTorch's include paths: LibTorch 2.x ships fmt 12 in its include folder, ahead of
// the system's, and the system's spdlog is built on the system's fmt 9, which it then no longer finds.

#include <string>

namespace peft::log {

/// Messages go to stderr as "peft: LEVEL: message": debug ones with `verbose`, else warnings and worse only.
void configure(bool verbose);

void debug(const std::string& message);
void warn(const std::string& message);

}  // namespace peft::log
