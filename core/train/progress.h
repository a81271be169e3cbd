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
  double images_per_s = 0.0;
  double eta_s = 0.0;
};

/// Progress of long work: on a terminal one line that updates in place (a few times a second); elsewhere (a log
/// file, a pipe) only the plain lines given to `message`.
class Progress {
 public:
  Progress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  ~Progress();

  void step(const StepStatus& status);
  /// Ends any live line and prints `text` on its own line.
  void message(const std::string& text);

 private:
  void clear_line();

  std::ostream& out_;
  bool terminal_;
  bool live_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace peft
