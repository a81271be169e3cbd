#pragma once
// `peft report DIR`: PNG plots and an HTML page for a run folder, a sweep folder or any folder of runs (the
// benchmark's). Plots are drawn by gnuplot (Debian's gnuplot-nox); the scripts stay next to the PNGs to be edited.

#include <filesystem>
#include <string>
#include <vector>

namespace peft {

struct ReportOptions {
  /// The output folder (default: DIR/report). A given folder that holds files needs `overwrite`.
  std::filesystem::path out;
  bool overwrite = false;
  /// Curves are drawn for at most this many runs (a benchmark folder holds hundreds).
  std::size_t max_curves = 16;
};

struct ReportFiles {
  std::filesystem::path html;
  std::vector<std::filesystem::path> plots;
  std::size_t runs = 0;
};

/// The run folders (those holding `metrics.jsonl`) at or under `dir`, in path order.
std::vector<std::filesystem::path> find_runs(const std::filesystem::path& dir);

/// Writes `index.html`, `curves.png` (training loss, and the training and evaluation metric per epoch) and, with two
/// or more finished runs, `accuracy_vs_parameters.png` (the final metric against trainable parameters, one colour
/// per run name). The metric is the first finished run's primary one (summary.json `primary_metric`; top-1 for
/// image classification).
ReportFiles write_report(const std::filesystem::path& dir, const ReportOptions& options);

/// The little markdown a sweep's results.md uses (a heading, paragraphs, a table, **bold**) as HTML.
std::string markdown_html(const std::string& markdown);

}  // namespace peft
