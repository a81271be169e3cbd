#include "train/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace peft {

Progress::~Progress() {
  if (live_) out_ << '\n';
}

void Progress::step(const StepStatus& s) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (s.step != s.steps && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  char line[256];
  const std::string unit = s.unit == "images" ? "img" : s.unit;
  std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  ETA %s  loss %.4f  lr %.2e  %.0f %s/s",
                static_cast<long long>(s.epoch), static_cast<long long>(s.epochs), static_cast<long long>(s.step),
                static_cast<long long>(s.steps), format_duration(s.eta_s).c_str(), s.loss, s.lr, s.examples_per_s,
                unit.c_str());
  draw(line);
}

void Progress::status(const std::string& text, bool force) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  draw(text);
}

void Progress::draw(std::string line) {
  // One column short of the width: a line that fills the last column wraps on some terminals.
  if (columns_ > 1 && line.size() >= static_cast<std::size_t>(columns_))
    line.resize(static_cast<std::size_t>(columns_ - 1));
  out_ << "\r\033[K" << line << std::flush;
  live_ = true;
}

Progress progress_on_stderr() {
  const bool terminal = isatty(STDERR_FILENO) != 0;
  winsize size{};
  const int columns = terminal && ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
  return Progress(std::cerr, terminal, columns);
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
