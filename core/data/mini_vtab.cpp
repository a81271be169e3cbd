#include "data/mini_vtab.h"

#include "output_paths.h"
#include "peft/atomic_file.h"

#include <stb_image_resize.h>

#include <ATen/ATen.h>
#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <tuple>

#include "data/idx.h"
#include "data/image_io.h"
#include "data/random.h"
#include "peft/error.h"
#include "peft/strings.h"

namespace fs = std::filesystem;

namespace peft::data {
namespace {

constexpr std::int64_t kCanvas = 32;
constexpr std::int64_t kItem = 28;
constexpr std::int64_t kSmall = 10;  // a shrunken item: one cell of a 3×3 grid on the canvas

struct Source {
  at::Tensor images;  // [N, 28, 28] uint8
  at::Tensor labels;  // [N] uint8
  std::string split;  // "train" or "t10k"
};

Source load_source(const fs::path& folder, const std::string& split) {
  const auto find = [&](const std::string& stem) {
    for (const char* suffix : {".gz", ""}) {
      const fs::path path = folder / (stem + suffix);
      if (fs::exists(path)) return path;
    }
    throw Error("mini-vtab", "no " + stem + "[.gz] in " + folder.string() +
                                 " (install dataset-fashion-mnist, or pass --source DIR)");
  };
  return {read_idx(find(split + "-images-idx3-ubyte")), read_idx(find(split + "-labels-idx1-ubyte")), split};
}

// Indices of `source` whose label is in [low, high], shuffled.
std::vector<std::int64_t> pool(const Source& source, int low, int high, Random& random) {
  std::vector<std::int64_t> indices;
  const auto* labels = source.labels.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < source.labels.size(0); ++i) {
    if (labels[i] >= low && labels[i] <= high) indices.push_back(i);
  }
  random.shuffle(indices);
  return indices;
}

at::Tensor pad_to_canvas(const at::Tensor& item) {
  const std::int64_t border = (kCanvas - kItem) / 2;
  at::Tensor canvas = at::zeros({kCanvas, kCanvas}, at::kByte);
  canvas.slice(0, border, border + kItem).slice(1, border, border + kItem).copy_(item);
  return canvas;
}

at::Tensor shrink(const at::Tensor& item) {
  const at::Tensor source = item.contiguous();
  at::Tensor small = at::empty({kSmall, kSmall}, at::kByte);
  stbir_resize_uint8(source.data_ptr<std::uint8_t>(), kItem, kItem, 0, small.data_ptr<std::uint8_t>(), kSmall, kSmall,
                     0, 1);
  return small;
}

void place(at::Tensor& canvas, const at::Tensor& small, std::int64_t cell) {
  const std::int64_t row = 1 + (cell / 3) * kSmall;
  const std::int64_t column = 1 + (cell % 3) * kSmall;
  canvas.slice(0, row, row + kSmall).slice(1, column, column + kSmall).copy_(small);
}

// One image to write: pixels, label, and the source images it came from.
struct Made {
  at::Tensor pixels;
  std::int64_t label;
  std::vector<std::int64_t> sources;
};

struct TaskSpec {
  std::string name;
  std::string group;
  std::int64_t num_classes;
  std::string description;
  // Makes the image for `label` from source items taken from `items` (advancing `next`).
  std::function<Made(std::int64_t label, const Source&, const std::vector<std::int64_t>& items, std::size_t& next,
                     Random&)>
      make;
};

Made single(const Source& source, const std::vector<std::int64_t>& items, std::size_t& next) {
  const std::int64_t index = items.at(next++);
  return {source.images[index], 0, {index}};
}

std::vector<TaskSpec> task_specs() {
  return {
      {"novel", "natural", 5, "the five unseen classes (sandal, shirt, sneaker, bag, ankle boot)",
       [](std::int64_t, const Source& s, const auto& items, std::size_t& next, Random&) {
         Made made = single(s, items, next);
         made.label = s.labels[made.sources[0]].item<std::int64_t>() - 5;
         made.pixels = pad_to_canvas(made.pixels);
         return made;
       }},
      {"rotation", "structured", 4, "an unseen item turned by k·90°, label k",
       [](std::int64_t label, const Source& s, const auto& items, std::size_t& next, Random&) {
         Made made = single(s, items, next);
         made.pixels = pad_to_canvas(at::rot90(made.pixels, label, {0, 1}));
         made.label = label;
         return made;
       }},
      {"location", "structured", 9, "a shrunken unseen item in one of 9 cells, label = cell",
       [](std::int64_t label, const Source& s, const auto& items, std::size_t& next, Random&) {
         Made made = single(s, items, next);
         at::Tensor canvas = at::zeros({kCanvas, kCanvas}, at::kByte);
         place(canvas, shrink(made.pixels), label);
         made.pixels = canvas;
         made.label = label;
         return made;
       }},
      {"count", "structured", 4, "1-4 shrunken unseen items in distinct cells, label = count - 1",
       [](std::int64_t label, const Source& s, const auto& items, std::size_t& next, Random& random) {
         std::vector<std::int64_t> cells(9);
         std::iota(cells.begin(), cells.end(), 0);
         random.shuffle(cells);
         Made made{at::zeros({kCanvas, kCanvas}, at::kByte), label, {}};
         for (std::int64_t i = 0; i <= label; ++i) {
           const std::int64_t index = items.at(next++);
           place(made.pixels, shrink(s.images[index]), cells[static_cast<std::size_t>(i)]);
           made.sources.push_back(index);
         }
         return made;
       }},
      {"inverted", "domain shift", 5, "the unseen classes with inverted intensities",
       [](std::int64_t, const Source& s, const auto& items, std::size_t& next, Random&) {
         Made made = single(s, items, next);
         made.label = s.labels[made.sources[0]].item<std::int64_t>() - 5;
         made.pixels = 255 - pad_to_canvas(made.pixels);
         return made;
       }},
  };
}

// Writes images and their list; returns the list's lines (`images/<folder>/<n>.png <label>`).
class TaskWriter {
 public:
  TaskWriter(fs::path root) : root_(std::move(root)) { fs::create_directories(root_); }

  std::string write(const std::string& folder, std::int64_t number, const Made& made, const std::string& source_split) {
    const std::string relative = "images/" + folder + "/" + std::to_string(number) + ".png";
    write_png(root_ / relative, made.pixels.unsqueeze(0));
    std::vector<std::string> sources;
    for (const auto index : made.sources) sources.push_back(std::to_string(index));
    sources_ << relative << ' ' << source_split << ' ' << join(sources, ",") << '\n';
    return relative + " " + std::to_string(made.label);
  }

  void write_list(const std::string& split, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + '\n';
    write_text_atomically(root_ / (split + ".txt"), text);
  }

  void finish(const MiniVtabTask& task, const std::string& group, const std::string& description, std::uint64_t seed) {
    std::ofstream(root_ / "sources.txt") << sources_.str();
    std::ofstream toml(root_ / "dataset.toml");
    toml << "# Written by `peft data mini-vtab`; the images are 32x32 grey PNGs made from Fashion-MNIST.\n"
         << "name = \"" << task.name << "\"\ngroup = \"" << group << "\"\ndescription = \"" << description << "\"\n"
         << "num_classes = " << task.num_classes << "\nimage_size = " << kCanvas << "\nchannels = 1\nseed = " << seed
         << "\n\n[splits]\n";
    for (const auto& [split, count] : task.splits) toml << split << " = " << count << '\n';
  }

 private:
  fs::path root_;
  std::ostringstream sources_;
};

// Balanced labels for `count` images of `num_classes` classes (counts differ by at most one), shuffled.
std::vector<std::int64_t> balanced_labels(std::int64_t count, std::int64_t num_classes, Random& random) {
  std::vector<std::int64_t> labels(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) labels[static_cast<std::size_t>(i)] = i % num_classes;
  random.shuffle(labels);
  return labels;
}

// Items for a class-labelled task (novel, inverted): `count` indices with balanced classes 5-9.
std::vector<std::int64_t> balanced_items(const Source& source, const std::vector<std::int64_t>& shuffled,
                                         std::int64_t count, Random& random) {
  std::array<std::vector<std::int64_t>, 5> by_class;
  for (const auto index : shuffled) by_class[source.labels[index].item<std::int64_t>() - 5].push_back(index);
  std::vector<std::int64_t> items;
  for (std::int64_t i = 0; i < count; ++i) items.push_back(by_class[i % 5].at(static_cast<std::size_t>(i / 5)));
  random.shuffle(items);
  return items;
}

// The most test images every downstream task can draw from `test`'s classes 5-9: novel and inverted take a fifth
// from each class, count takes 1-4 items an image (labels 0-3 in turn).
std::int64_t max_test_images(const Source& test) {
  std::array<std::int64_t, 5> per_class{};
  const auto* labels = test.labels.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < test.labels.size(0); ++i) {
    if (labels[i] >= 5 && labels[i] <= 9) ++per_class[labels[i] - 5];
  }
  const std::int64_t total = std::accumulate(per_class.begin(), per_class.end(), std::int64_t{0});
  std::int64_t count_task = 0;
  for (std::int64_t used = 0; used + count_task % 4 + 1 <= total; ++count_task) used += count_task % 4 + 1;
  return std::min({total, 5 * *std::min_element(per_class.begin(), per_class.end()), count_task});
}

}  // namespace

std::vector<MiniVtabTask> build_mini_vtab(const MiniVtabOptions& options) {
  if (options.out.empty()) throw Error("mini-vtab", "no output folder given (--out DIR)");
  check_output_folder(options.out, options.overwrite, {{options.source, "the Fashion-MNIST source (--source)"}},
                      "mini-vtab");
  if (options.test_images < 1) throw Error("mini-vtab", "test_images must be positive");
  const Source train = load_source(options.source, "train");
  const Source test = load_source(options.source, "t10k");
  if (const std::int64_t most = max_test_images(test); options.test_images > most) {
    throw Error("mini-vtab", "test_images = " + std::to_string(options.test_images) + ", expected at most " +
                                 std::to_string(most) +
                                 " (the count task uses 1-4 of the unseen classes' test images an image)");
  }
  Random random(options.seed);
  std::vector<MiniVtabTask> written;

  {  // Pretraining: classes 0-4, official train images for `train`, official test images for `test`.
    TaskWriter writer(options.out / "pretrain");
    MiniVtabTask task{"pretrain", 5, {}};
    for (const auto& [split, source, limit] : {std::tuple{std::string("train"), &train, options.pretrain_images},
                                               std::tuple{std::string("test"), &test, std::int64_t{-1}}}) {
      std::vector<std::int64_t> indices = pool(*source, 0, 4, random);
      if (limit >= 0 && static_cast<std::int64_t>(indices.size()) > limit)
        indices.resize(static_cast<std::size_t>(limit));
      std::vector<std::string> lines;
      std::int64_t number = 0;
      for (const auto index : indices) {
        Made made{pad_to_canvas(source->images[index]), source->labels[index].item<std::int64_t>(), {index}};
        lines.push_back(writer.write(split, number++, made, source->split));
      }
      writer.write_list(split, lines);
      task.splits.emplace_back(split, static_cast<std::int64_t>(lines.size()));
    }
    writer.finish(task, "pretraining", "Fashion-MNIST classes 0-4 (T-shirt, trouser, pullover, dress, coat)",
                  options.seed);
    written.push_back(task);
  }

  for (const auto& spec : task_specs()) {
    TaskWriter writer(options.out / spec.name);
    MiniVtabTask task{spec.name, spec.num_classes, {}};
    const bool class_labelled = spec.name == "novel" || spec.name == "inverted";
    // train800 + val200 from the official train images, test from the official test images: no shared source.
    std::vector<std::string> train_lines;
    std::vector<std::string> test_lines;
    for (const auto& [folder, source, count, lines] :
         {std::tuple{std::string("train"), &train, std::int64_t{1000}, &train_lines},
          std::tuple{std::string("test"), &test, options.test_images, &test_lines}}) {
      const std::vector<std::int64_t> unseen = pool(*source, 5, 9, random);
      const std::vector<std::int64_t> items = class_labelled ? balanced_items(*source, unseen, count, random) : unseen;
      const std::vector<std::int64_t> labels = balanced_labels(count, spec.num_classes, random);
      std::size_t next = 0;
      for (std::int64_t number = 0; number < count; ++number) {
        const Made made = spec.make(labels[static_cast<std::size_t>(number)], *source, items, next, random);
        lines->push_back(writer.write(folder, number, made, source->split));
      }
    }
    // Balanced val200: take each class's first lines in list order until it has its share.
    std::vector<std::string> train800;
    std::vector<std::string> val200;
    std::vector<std::int64_t> taken(static_cast<std::size_t>(spec.num_classes), 0);
    for (std::size_t i = 0; i < train_lines.size(); ++i) {
      const std::int64_t label = std::stoll(train_lines[i].substr(train_lines[i].rfind(' ') + 1));
      const std::int64_t share = 200 / spec.num_classes + (label < 200 % spec.num_classes ? 1 : 0);
      if (taken[static_cast<std::size_t>(label)] < share) {
        ++taken[static_cast<std::size_t>(label)];
        val200.push_back(train_lines[i]);
      } else {
        train800.push_back(train_lines[i]);
      }
    }
    writer.write_list("train800", train800);
    writer.write_list("val200", val200);
    writer.write_list("train800val200", train_lines);
    writer.write_list("test", test_lines);
    task.splits = {{"train800", static_cast<std::int64_t>(train800.size())},
                   {"val200", static_cast<std::int64_t>(val200.size())},
                   {"train800val200", static_cast<std::int64_t>(train_lines.size())},
                   {"test", static_cast<std::int64_t>(test_lines.size())}};
    writer.finish(task, spec.group, spec.description, options.seed);
    written.push_back(task);
  }
  return written;
}

}  // namespace peft::data
