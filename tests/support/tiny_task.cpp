#include "support/tiny_task.h"

#include <ATen/ATen.h>

#include "data/image_io.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;

namespace peft::test {
namespace {

// Writes the images of `split` and returns its list.
std::string write_split(const fs::path& task, const std::string& split, std::int64_t count, std::uint64_t seed) {
  at::manual_seed(seed);
  std::string list;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t label = i % 3;
    at::Tensor image = at::randint(0, 100, {3, 8, 8}, at::kFloat);
    const std::int64_t row = label == 2 ? 4 : 0;
    const std::int64_t col = label == 1 ? 4 : 0;
    image.slice(1, row, row + 4).slice(2, col, col + 4).add_(150);
    const std::string name = "images/" + split + "/" + std::to_string(i) + ".png";
    data::write_png(task / name, image.to(at::kByte));
    list += name + " " + std::to_string(label) + "\n";
  }
  write_text(task / (split + ".txt"), list);
  return list;
}

// `extra` with epochs = 3 and lr = 0.01 unless it sets them.
std::string with_defaults(const std::string& extra) {
  std::string text = extra;
  if (("\n" + extra).find("\nepochs =") == std::string::npos) text += "epochs = 3\n";
  if (("\n" + extra).find("\nlr =") == std::string::npos) text += "lr = 0.01\n";
  return text;
}

}  // namespace

void write_tiny_task(const fs::path& task, std::int64_t train_images, std::int64_t test_images) {
  const std::string train = write_split(task, "train800", train_images, 1);
  const std::string val = write_split(task, "val200", test_images, 3);
  write_text(task / "train800val200.txt", train + val);
  write_split(task, "test", test_images, 2);
  write_text(task / "dataset.toml", "num_classes = 3\n");
}

std::string tiny_recipe(const fs::path& task, const std::string& method, const std::string& train_extra,
                        const std::string& method_extra) {
  return R"(schema_version = 1
name = "tiny"
seed = 5
threads = 1

[backbone]
plugin = "vit"
variant = "vit_pico_patch4_32"
img_size = 8

[method]
plugin = ")" +
         method + "\"\n" + method_extra + R"(
[data]
format = "vtab1k"
root = ")" +
         task.string() +
         R"("
train_split = "train800"
eval_split = "test"
workers = 1

[train]
batch_size = 8
warmup_epochs = 0
log_every = 2
)" + with_defaults(train_extra);
}

}  // namespace peft::test
