#include "log/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace peft::log {

void configure(bool verbose) {
  spdlog::set_default_logger(spdlog::stderr_color_st("peft"));
  spdlog::set_pattern("peft: %^%l%$: %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
}

void debug(const std::string& message) { spdlog::debug("{}", message); }

void warn(const std::string& message) { spdlog::warn("{}", message); }

}  // namespace peft::log
