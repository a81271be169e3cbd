#include "report.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "output_paths.h"
#include "peft/atomic_file.h"
#include "peft/error.h"
#include "peft/strings.h"
#include "process_pool.h"
#include "run_files.h"
#include "text_format.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace peft {
namespace {

struct RunRecord {
  std::string label;  // the folder relative to the report's folder ("." for the folder itself)
  json summary;       // null while the run has not finished
  std::vector<json> epochs;
  std::vector<json> evals;
};

RunRecord read_run(const fs::path& dir, const fs::path& run) {
  RunRecord record;
  record.label = fs::relative(run, dir).lexically_normal().string();
  if (record.label == ".") record.label = fs::absolute(run).lexically_normal().filename().string();  // one run
  std::ifstream metrics(run / kMetricsFile);
  std::string line;
  while (std::getline(metrics, line)) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_object()) continue;  // a line cut short by a crash
    const std::string type = entry.value("type", "");
    if (type == "epoch") record.epochs.push_back(entry);
    if (type == "eval") record.evals.push_back(entry);
  }
  std::ifstream summary(run / kSummaryFile);
  if (summary) record.summary = json::parse(summary, nullptr, false);
  if (record.summary.is_discarded()) record.summary = nullptr;
  return record;
}

// The metric a report plots and tabulates: the primary metric of the first finished run (top-1 for image
// classification, and for runs written before summaries named their metrics).
struct ReportMetric {
  std::string name = "top1";
  std::string label = "top-1";
  bool percent = true;

  // A value as plotted (percentages ×100) and as shown in the table ("84.60 %", "12.3456").
  double plotted(double value) const { return percent ? 100.0 * value : value; }
  std::string text(double value) const { return percent ? fixed(100.0 * value, 2) + " %" : fixed(value, 4); }
  std::string axis() const { return label + (percent ? " (%)" : ""); }
};

ReportMetric report_metric(const std::vector<RunRecord>& runs) {
  ReportMetric metric;
  for (const auto& run : runs) {
    if (run.summary.is_null() || !run.summary.contains("primary_metric")) continue;
    metric.name = run.summary.value("primary_metric", metric.name);
    metric.label = metric.name == "top1" ? "top-1" : metric.name;
    metric.percent = false;
    for (const auto& spec : run.summary.value("metrics", json::array())) {
      if (spec.value("name", "") == metric.name) metric.percent = spec.value("percent", false);
    }
    break;
  }
  return metric;
}

std::string gnuplot_string(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return quoted + "\"";
}

std::string html_escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '&':
        escaped += "&amp;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

fs::path find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path ? path : "");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const fs::path candidate = fs::path(folder.empty() ? "." : folder) / "gnuplot";
    if (fs::exists(candidate)) return candidate;
  }
  throw Error("report", "gnuplot not found on PATH (install gnuplot-nox: scripts/install_deps.sh does)");
}

// Sixteen distinguishable colours (Tableau 20's strong and light halves), cycled past that.
std::string colour(std::size_t i) {
  static const char* const kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                         "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78",
                                         "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"};
  return std::string("rgb \"") + kColours[i % 16] + "\"";
}

// Whole epochs on the x axis: one tick per epoch up to 20, gnuplot's choice beyond.
std::string epoch_tics(const std::vector<RunRecord>& runs) {
  std::size_t epochs = 0;
  for (const auto& run : runs) epochs = std::max(epochs, run.epochs.size());
  return epochs <= 20 ? "set xtics 1\n" : "set format x \"%.0f\"\n";
}

// Training loss per epoch (left) and the evaluation metric per epoch (right), one colour per run.
std::string curves_script(const std::vector<RunRecord>& runs, const ReportMetric& metric) {
  std::ostringstream gp;
  gp << "set terminal pngcairo size 1400,520 font \",10\"\nset output \"curves.png\"\nset multiplot layout 1,2\n"
        "set grid\nset key outside top center horizontal maxcols 3 noenhanced\nset xlabel \"epoch\"\n"
     << epoch_tics(runs) << "set title \"training loss\"\nset ylabel \"loss\"\nplot";
  std::ostringstream data;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    gp << (i ? "," : "") << " '-' using 1:2 with lines lw 2 lc " << colour(i) << " title "
       << gnuplot_string(runs[i].label);
    for (const auto& e : runs[i].epochs) data << e.value("epoch", 0) << ' ' << e.value("train_loss", 0.0) << '\n';
    data << "e\n";
  }
  gp << '\n'
     << data.str() << "set title \"" << metric.axis() << ": evaluation (points), training (dashed)\"\n"
     << "set ylabel \"" << metric.axis() << "\"\nplot";
  data.str("");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string split = runs[i].evals.empty() ? "" : runs[i].evals.front().value("split", "");
    gp << (i ? "," : "") << " '-' using 1:2 with linespoints lw 2 pt 7 lc " << colour(i) << " title "
       << gnuplot_string(runs[i].label + (split.empty() ? "" : " (" + split + ")"))
       << ", '-' using 1:2 with lines dt 2 lc " << colour(i) << " notitle";
    for (const auto& e : runs[i].evals) {
      data << e.value("epoch", 0) << ' ' << metric.plotted(e.value(metric.name, 0.0)) << '\n';
    }
    data << "e\n";
    for (const auto& e : runs[i].epochs) {
      data << e.value("epoch", 0) << ' ' << metric.plotted(e.value("train_" + metric.name, 0.0)) << '\n';
    }
    data << "e\n";
  }
  gp << '\n' << data.str() << "unset multiplot\n";
  return gp.str();
}

// The final metric against trainable parameters (log scale), one colour per run name (a method's recipe).
std::string scatter_script(const std::vector<const RunRecord*>& finished, const ReportMetric& metric) {
  // Runs of one recipe name with different methods (e.g. `--set method.plugin=...`) get a colour each.
  std::map<std::string, std::map<std::string, std::vector<const RunRecord*>>> by_name;
  for (const RunRecord* run : finished) {
    // Scores on different splits (a sweep's val200 trials, its test finals) are told apart in the legend.
    const std::string split = run->summary["final"].value("split", "");
    by_name[run->summary.value("name", "") + (split.empty() ? "" : " [" + split + "]")]
           [run->summary.value("method", "")]
               .push_back(run);
  }
  std::map<std::string, std::vector<const RunRecord*>> groups;
  for (const auto& [name, by_method] : by_name) {
    for (const auto& [method, runs] : by_method) {
      groups[by_method.size() == 1 ? name : name + " (" + method + ")"] = runs;
    }
  }
  std::ostringstream gp;
  std::ostringstream data;
  gp << "set terminal pngcairo size 900,600 font \",10\"\nset output \"accuracy_vs_parameters.png\"\nset grid\n"
        "set logscale x\nset format x \"10^{%L}\"\nset xlabel \"trainable parameters (with the head)\"\n"
        "set ylabel \"final "
     << metric.axis() << " on the split in brackets\"\nset key outside right top noenhanced\nset title \""
     << metric.label << " against trainable parameters\"\nplot";
  std::size_t group = 0;
  for (const auto& [name, runs] : groups) {
    gp << (group ? "," : "") << " '-' using 1:2 with points pt 7 ps 1.3 lc " << colour(group) << " title "
       << gnuplot_string(name);
    ++group;
    for (const RunRecord* run : runs) {
      data << run->summary["trainable_parameters"].value("total", 0) << ' '
           << metric.plotted(run->summary["final"].value(metric.name, 0.0)) << '\n';
    }
    data << "e\n";
  }
  gp << '\n' << data.str();
  return gp.str();
}

void draw(const fs::path& gnuplot, const fs::path& out, const std::string& name, const std::string& script) {
  const fs::path file = out / (name + ".gp");
  write_text_atomically(
      file, "# drawn by `peft report`; rerun with: cd " + out.string() + " && gnuplot " + name + ".gp\n" + script);
  const fs::path log = out / (name + ".log");
  // gnuplot resolves `set output` against its working folder: run it in `out` through the shell-free path.
  const auto results = run_children(
      {{{gnuplot.string(), "-e", "cd " + gnuplot_string(out.string()), file.string()}, log}}, 1, [](std::size_t) {},
      [](std::size_t, const ChildResult&) {});
  if (results.front().exit_code != 0) {
    throw Error("report", "gnuplot failed on " + file.string() + ": " + last_line(log));
  }
  fs::remove(log);
}

// The training rate a summary's timing records, whatever its task calls an example (train_images_per_s, ...).
double examples_per_s(const json& timing) {
  for (const auto& [key, value] : timing.items()) {
    if (key.rfind("train_", 0) == 0 && key.size() > 12 && key.compare(key.size() - 6, 6, "_per_s") == 0) {
      return value.get<double>();
    }
  }
  return 0.0;
}

std::string summary_table(const std::vector<RunRecord>& runs, const ReportMetric& metric) {
  std::ostringstream html;
  html << "<table>\n<tr><th>run</th><th>name</th><th>method</th><th>trainable (with head)</th>"
          "<th>% of backbone</th><th>adapter file</th><th>eval split</th><th>final "
       << html_escape(metric.label) << "</th><th>best " << html_escape(metric.label)
       << " (epoch)</th><th>epochs</th><th>train examples/s</th><th>wall</th></tr>\n";
  const auto value_text = [&](const json& table) {
    return table.contains(metric.name) && table[metric.name].is_number() ? metric.text(table[metric.name].get<double>())
                                                                         : std::string("-");
  };
  for (const auto& run : runs) {
    html << "<tr><td>" << html_escape(run.label) << "</td>";
    if (run.summary.is_null()) {
      html << "<td colspan=\"11\">not finished (" << run.epochs.size() << " epochs logged)</td></tr>\n";
      continue;
    }
    const json& s = run.summary;
    html << "<td>" << html_escape(s.value("name", "")) << "</td><td>" << html_escape(s.value("method", ""))
         << "</td><td>" << with_thousands(s["trainable_parameters"].value("total", std::int64_t{0})) << "</td><td>"
         << fixed(s["trainable_parameters"].value("percent_of_backbone", 0.0), 3) << " %</td><td>"
         << fixed(s.value("adapter_bytes", 0) / 1024.0, 1) << " KiB</td><td>"
         << html_escape(s["final"].value("split", "")) << "</td><td><b>" << value_text(s["final"]) << "</b></td><td>"
         << value_text(s["best"]) << " (" << s["best"].value("epoch", 0) << ")</td><td>" << s.value("epochs", 0)
         << "</td><td>" << fixed(examples_per_s(s["timing"]), 0) << "</td><td>"
         << fixed(s["timing"].value("wall_seconds", 0.0), 1) << " s</td></tr>\n";
  }
  return html.str() + "</table>\n";
}

}  // namespace

// The little markdown results.md uses (a heading, paragraphs, a table, **bold**) as HTML.
std::string markdown_html(const std::string& markdown) {
  const auto inline_html = [](const std::string& text) {
    std::string escaped = html_escape(text);
    std::string out;
    bool bold = false;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
      if (escaped.compare(i, 2, "**") == 0) {
        out += bold ? "</b>" : "<b>";
        bold = !bold;
        ++i;
      } else {
        out += escaped[i];
      }
    }
    return out + (bold ? "</b>" : "");
  };
  std::ostringstream html;
  std::istringstream lines(markdown);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    const bool row = !line.empty() && line.front() == '|';
    if (in_table && !row) html << "</table>\n";
    if (row) {
      if (line.find("|---") == 0) continue;
      const bool header = !in_table;
      if (header) html << "<table>\n";
      in_table = true;
      html << "<tr>";
      const auto cells = split(line.substr(1, line.size() > 1 ? line.size() - 2 : 0), '|');
      for (const auto& cell : cells) {
        const auto begin = cell.find_first_not_of(' ');
        const std::string text =
            begin == std::string::npos ? "" : cell.substr(begin, cell.find_last_not_of(' ') - begin + 1);
        html << (header ? "<th>" : "<td>") << inline_html(text) << (header ? "</th>" : "</td>");
      }
      html << "</tr>\n";
      continue;
    }
    in_table = false;
    if (line.rfind("# ", 0) == 0) {
      html << "<h3>" << inline_html(line.substr(2)) << "</h3>\n";
    } else if (!line.empty()) {
      html << "<p>" << inline_html(line) << "</p>\n";
    }
  }
  if (in_table) html << "</table>\n";
  return html.str();
}

std::vector<fs::path> find_runs(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error("report", dir.string() + " is not a folder");
  std::vector<fs::path> runs;
  if (fs::exists(dir / kMetricsFile)) runs.push_back(dir);
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename() == "report") it.disable_recursion_pending();
    if (it->is_regular_file() && it->path().filename() == kMetricsFile && it->path().parent_path() != dir) {
      runs.push_back(it->path().parent_path());
    }
  }
  std::sort(runs.begin(), runs.end());
  return runs;
}

ReportFiles write_report(const fs::path& dir, const ReportOptions& options) {
  const std::vector<fs::path> folders = find_runs(dir);
  if (folders.empty()) throw Error("report", "no run folders (with metrics.jsonl) at or under " + dir.string());
  const fs::path gnuplot = find_gnuplot();
  if (!options.out.empty()) check_output_folder(options.out, options.overwrite, {}, "report");
  const fs::path out = fs::absolute(options.out.empty() ? dir / "report" : options.out);
  fs::create_directories(out);

  std::vector<RunRecord> runs;
  std::vector<const RunRecord*> finished;
  for (const auto& folder : folders) runs.push_back(read_run(dir, folder));
  for (const auto& run : runs) {
    if (!run.summary.is_null()) finished.push_back(&run);
  }
  const ReportMetric metric = report_metric(runs);
  ReportFiles files;
  files.runs = runs.size();
  std::ostringstream html;
  html << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>peft report: " << html_escape(dir.string())
       << "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:"
          "left}img{max-width:100%}</style></head><body>\n<h1>peft report</h1>\n<p>"
       << html_escape(fs::absolute(dir).lexically_normal().string()) << ": " << runs.size() << " run(s), "
       << finished.size() << " finished.</p>\n";
  if (runs.size() <= options.max_curves) {
    draw(gnuplot, out, "curves", curves_script(runs, metric));
    files.plots.push_back(out / "curves.png");
    html << "<h2>Training curves</h2>\n<img src=\"curves.png\" alt=\"training curves\">\n";
  } else {
    html << "<p>Training curves are drawn for at most " << options.max_curves << " runs; report a run or a sweep "
         << "folder for them.</p>\n";
  }
  if (finished.size() >= 2) {
    draw(gnuplot, out, "accuracy_vs_parameters", scatter_script(finished, metric));
    files.plots.push_back(out / "accuracy_vs_parameters.png");
    html << "<h2>Accuracy against trainable parameters</h2>\n<img src=\"accuracy_vs_parameters.png\" "
            "alt=\"accuracy against trainable parameters\">\n";
  }
  std::ifstream sweep_results(dir / "results.md");
  if (sweep_results) {
    html << "<h2>Sweep results</h2>\n" << markdown_html(std::string(std::istreambuf_iterator<char>(sweep_results), {}));
  }
  html << "<h2>Runs</h2>\n" << summary_table(runs, metric) << "</body></html>\n";
  files.html = out / "index.html";
  write_text_atomically(files.html, html.str());
  return files;
}

}  // namespace peft
