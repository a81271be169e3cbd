#include <chrono>
#include <iostream>

#include "command.h"
#include "data/mini_lm.h"
#include "data/mini_vtab.h"
#include "exit_code.h"
#include "format.h"

namespace peft::cli {

int run_mini_vtab_command(const MiniVtabCommandOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  data::MiniVtabOptions build;
  build.source = options.source;
  build.out = options.out;
  build.overwrite = options.overwrite;
  build.seed = options.seed;
  build.pretrain_images = options.pretrain_images;
  build.test_images = options.test_images;
  const auto tasks = data::build_mini_vtab(build);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<std::vector<std::string>> rows{{"TASK", "CLASSES", "SPLITS"}};
  for (const auto& task : tasks) {
    std::string splits;
    for (const auto& [split, count] : task.splits)
      splits += (splits.empty() ? "" : ", ") + split + " " + std::to_string(count);
    rows.push_back({task.name, std::to_string(task.num_classes), splits});
  }
  for (const auto& line : format_columns(rows)) std::cout << line << '\n';
  std::cout << "mini-vtab written to " << options.out.string() << " in " << seconds << " s (seed " << options.seed
            << ")\n";
  return kSuccess;
}

int run_mini_lm_command(const MiniLmCommandOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  data::MiniLmOptions build;
  build.source = options.source;
  build.out = options.out;
  build.overwrite = options.overwrite;
  build.seed = options.seed;
  const auto tasks = data::build_mini_lm(build);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<std::vector<std::string>> rows{{"TASK", "KIND", "SPLITS"}};
  for (const auto& task : tasks) {
    std::string splits;
    for (const auto& [split, count] : task.splits)
      splits += (splits.empty() ? "" : ", ") + split + " " + std::to_string(count);
    rows.push_back(
        {task.name,
         task.kind + (task.num_classes > 0 ? " (" + std::to_string(task.num_classes) + " classes)" : std::string()),
         splits});
  }
  for (const auto& line : format_columns(rows)) std::cout << line << '\n';
  std::cout << "mini-lm written to " << options.out.string() << " in " << seconds << " s (seed " << options.seed
            << ")\n";
  return kSuccess;
}

}  // namespace peft::cli
