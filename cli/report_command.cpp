#include <iostream>

#include "command.h"
#include "exit_code.h"
#include "report.h"

namespace peft::cli {

int run_report_command(const ReportCommandOptions& options) {
  ReportOptions report;
  report.out = options.out;
  report.overwrite = options.overwrite;
  const ReportFiles files = write_report(options.dir, report);
  std::cout << "report of " << files.runs << (files.runs == 1 ? " run: " : " runs: ") << files.html.string() << '\n';
  for (const auto& plot : files.plots) std::cout << "  " << plot.string() << '\n';
  return kSuccess;
}

}  // namespace peft::cli
