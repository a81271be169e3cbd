#include "model_folder.h"

#include <ATen/ATen.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "peft/atomic_file.h"
#include "peft/checkpoint_source.h"
#include "peft/error.h"
#include "peft/safetensors.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

constexpr const char* kIndex = "model.safetensors.index.json";
constexpr const char* kSingle = "model.safetensors";

std::string shard_name(std::size_t index, std::size_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return name;
}

void copy_atomically(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw Error("merge", "cannot read " + from.string());
  write_file_atomically(to, [&](std::ostream& out) { out << in.rdbuf(); });
}

}  // namespace

std::uint64_t parse_byte_size(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0) ++digits;
  static const std::map<std::string, std::uint64_t> units{{"", 1},
                                                          {"B", 1},
                                                          {"KB", 1000},
                                                          {"MB", 1000 * 1000},
                                                          {"GB", 1000000000},
                                                          {"KiB", 1 << 10},
                                                          {"MiB", 1 << 20},
                                                          {"GiB", std::uint64_t{1} << 30}};
  const auto unit = units.find(text.substr(digits));
  if (digits == 0 || digits > 15 || unit == units.end()) {
    throw Error("merge", "max shard size '" + text + "' is not a size (expected e.g. 5GB, 500MB, 200MiB or bytes)");
  }
  const std::uint64_t bytes = std::stoull(text.substr(0, digits)) * unit->second;
  if (bytes == 0) throw Error("merge", "max shard size '" + text + "' must be more than 0 bytes");
  return bytes;
}

void write_model_folder(const fs::path& out, const fs::path& source, const NamedTensors& tensors,
                        std::uint64_t max_shard_bytes) {
  // Each tensor in its checkpoint's dtype; a model made from config.json alone keeps the run's.
  std::map<std::string, at::ScalarType> stored;
  if (fs::exists(source / kIndex) || fs::exists(source / kSingle)) {
    const CheckpointSource original = CheckpointSource::open(source);
    for (const TensorInfo& info : original.tensors()) stored[info.name] = info.dtype;
  }

  // Greedy shards in the model's order, a new one when the next tensor would pass the limit (as transformers).
  std::vector<NamedTensors> shards(1);
  std::uint64_t shard_bytes = 0;
  std::uint64_t total_bytes = 0;
  for (const auto& [name, tensor] : tensors) {
    const auto found = stored.find(name);
    const at::Tensor converted = found == stored.end() ? tensor : tensor.to(found->second);
    const auto bytes = static_cast<std::uint64_t>(converted.numel() * converted.element_size());
    if (shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace_back(name, converted);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  // A file of the other layout already there would be read instead of what is written (peft prefers an index,
  // transformers model.safetensors): refused, never removed.
  const char* other = shards.size() == 1 ? kIndex : kSingle;
  if (fs::exists(out / other)) {
    throw Error("merge", (out / other).string() + " would be read instead of the merged " +
                             (shards.size() == 1 ? std::string(kSingle) : std::string("shards")) +
                             " (hint: remove it, or merge into another folder)");
  }
  fs::create_directories(out);
  if (shards.size() == 1) {
    write_safetensors(out / kSingle, shards.front(), {{"format", "pt"}});
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const std::string name = shard_name(i, shards.size());
      write_safetensors(out / name, shards[i], {{"format", "pt"}});
      for (const auto& entry : shards[i]) weight_map[entry.first] = name;
    }
    const nlohmann::json index{{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
    write_text_atomically(out / kIndex, index.dump(2) + "\n");
  }
  for (const char* file : {"config.json", "generation_config.json", "tokenizer.model", "tokenizer.json",
                           "tokenizer_config.json", "special_tokens_map.json"}) {
    if (fs::exists(source / file)) copy_atomically(source / file, out / file);
  }
}

}  // namespace peft
