#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace peft {

/// Where a training step stands, for the progress line.
struct StepStatus {
  std::int64_t epoch = 0;  // 1-based
  std::int64_t epochs = 0;
  std::int64_t step = 0;  // 1-based within the epoch
  std::int64_t steps = 0;
  double loss = 0.0;
  double lr = 0.0;
  /// Training examples per second.
  double examples_per_s = 0.0;
  double eta_s = 0.0;
  /// What an example is ("images": shown as img/s).
  std::string unit = "images";
};

/// Progress of long work: on a terminal one line that updates in place (a few times a second); elsewhere (a log
/// file, a pipe) only the plain lines given to `message`.
class Progress {
 public:
  /// `columns`: the terminal's width (0: unknown); live lines are cut to fit it, so they redraw in place instead of
  /// wrapping onto a new line each time.
  Progress(std::ostream& out, bool terminal, int columns = 0) : out_(out), terminal_(terminal), columns_(columns) {}
  ~Progress();

  void step(const StepStatus& status);
  /// On a terminal, `text` as the live line (evaluation progress); at most a few times a second unless `force`.
  void status(const std::string& text, bool force = false);
  /// Ends any live line and prints `text` on its own line.
  void message(const std::string& text);

 private:
  void clear_line();
  void draw(std::string line);

  std::ostream& out_;
  bool terminal_;
  int columns_ = 0;
  bool live_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// Progress on standard error: live lines when it is a terminal (cut to its width), plain lines otherwise.
Progress progress_on_stderr();

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace peft
