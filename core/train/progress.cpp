#include "train/progress.h"

#include <cmath>
#include <cstdio>

namespace peft {

Progress::~Progress() {
  if (live_) out_ << '\n';
}

void Progress::step(const StepStatus& s) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (s.step != s.steps && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  char line[200];
  std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  loss %.4f  lr %.2e  %.0f img/s  ETA %s",
                static_cast<long long>(s.epoch), static_cast<long long>(s.epochs), static_cast<long long>(s.step),
                static_cast<long long>(s.steps), s.loss, s.lr, s.images_per_s, format_duration(s.eta_s).c_str());
  out_ << "\r\033[K" << line << std::flush;
  live_ = true;
}

void Progress::message(const std::string& text) {
  clear_line();
  out_ << text << '\n' << std::flush;
}

void Progress::clear_line() {
  if (!live_) return;
  out_ << "\r\033[K";
  live_ = false;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

}  // namespace peft
