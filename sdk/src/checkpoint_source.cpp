#include "peft/checkpoint_source.h"
#include "peft/bounded_json.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kSingleFile = "model.safetensors";

// The shard names of an index, in the order they first appear, with each tensor's shard.
std::vector<std::pair<std::string, std::string>> weight_map(const fs::path& index_file) {
  std::ifstream in(index_file);
  const nlohmann::json index = parse_bounded_json(in, "checkpoint", index_file.string());
  if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw Error("checkpoint", index_file.string() + ": expected a JSON object with a weight_map object");
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (auto entry = index["weight_map"].begin(); entry != index["weight_map"].end(); ++entry) {
    if (!entry->is_string()) {
      throw Error("checkpoint", index_file.string() + ": weight_map." + entry.key() + " is not a file name");
    }
    entries.emplace_back(entry.key(), entry->get<std::string>());
  }
  return entries;
}

}  // namespace

CheckpointSource::CheckpointSource(TensorFile file) : source_(file.source), metadata_(std::move(file.metadata)) {
  for (auto& [name, tensor] : file.tensors) {
    index_.emplace(name, infos_.size());
    infos_.push_back({name, tensor.scalar_type(), tensor.sizes().vec()});
    shard_of_.push_back(nullptr);
    in_memory_.push_back(std::move(tensor));
  }
}

CheckpointSource CheckpointSource::open(const fs::path& given) {
  // The index itself stands for its folder.
  const fs::path path = given.filename() == kIndexFile ? given.parent_path() : given;
  CheckpointSource result;
  result.source_ = given.string();
  std::error_code error;
  if (!fs::is_directory(path, error)) {
    if (!fs::exists(path, error)) throw Error("checkpoint", path.string() + " does not exist");
    result.shards_.push_back(std::make_shared<const SafetensorsFile>(path));
  } else if (fs::exists(path / kIndexFile, error)) {
    const fs::path index_file = path / kIndexFile;
    std::map<std::string, std::shared_ptr<const SafetensorsFile>> by_file;
    std::map<std::string, const SafetensorsFile*> placed;
    for (const auto& [tensor, shard] : weight_map(index_file)) {
      const fs::path shard_path(shard);
      if (shard_path.empty() || shard_path.has_parent_path() || shard_path.is_absolute() || shard == "." ||
          shard == "..") {
        throw Error("checkpoint",
                    index_file.string() + ": shard '" + shard + "' of " + tensor + " is not a file name in the folder");
      }
      auto& file = by_file[shard];
      if (!file) {
        if (!fs::exists(path / shard_path, error)) {
          throw Error("checkpoint",
                      index_file.string() + " names shard " + shard + ", which is not in " + path.string());
        }
        file = std::make_shared<const SafetensorsFile>(path / shard_path);
        result.shards_.push_back(file);
      }
      if (file->find(tensor) == nullptr) {
        throw Error("checkpoint",
                    index_file.string() + " places " + tensor + " in " + shard + ", which has no such tensor");
      }
      placed.emplace(tensor, file.get());
    }
    // Shard by shard, each in file order (the order the writer laid them out).
    for (const auto& shard : result.shards_) {
      for (const TensorInfo& info : shard->tensors()) {
        const auto here = placed.find(info.name);
        // In the shard but the index places it elsewhere, or nowhere: not part of the model (as transformers).
        if (here == placed.end() || here->second != shard.get()) continue;
        result.index_.emplace(info.name, result.infos_.size());
        result.infos_.push_back(info);
        result.shard_of_.push_back(shard);
      }
    }
    result.metadata_ = result.shards_.empty() ? std::map<std::string, std::string>{} : result.shards_[0]->metadata();
    return result;
  } else if (fs::exists(path / kSingleFile, error)) {
    result.shards_.push_back(std::make_shared<const SafetensorsFile>(path / kSingleFile));
  } else {
    throw Error("checkpoint", path.string() + " has neither " + kIndexFile + " nor " + kSingleFile);
  }
  const auto& only = result.shards_.front();
  for (const TensorInfo& info : only->tensors()) {
    result.index_.emplace(info.name, result.infos_.size());
    result.infos_.push_back(info);
    result.shard_of_.push_back(only);
  }
  result.metadata_ = only->metadata();
  return result;
}

const TensorInfo* CheckpointSource::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &infos_[found->second];
}

std::size_t CheckpointSource::position(const std::string& name) const {
  const auto found = index_.find(name);
  if (found == index_.end()) throw Error("checkpoint", source_ + " has no tensor '" + name + "'");
  return found->second;
}

at::Tensor CheckpointSource::read(const std::string& name) const {
  const std::size_t slot = position(name);
  return shard_of_[slot] ? shard_of_[slot]->read(name) : in_memory_[slot];
}

void CheckpointSource::read_into(const std::string& name, const at::Tensor& target) const {
  const std::size_t slot = position(name);
  if (shard_of_[slot]) {
    shard_of_[slot]->read_into(name, target);
  } else {
    target.copy_(in_memory_[slot].view_as(target));
  }
}

TensorFile CheckpointSource::read_all() const {
  TensorFile file;
  file.source = source_;
  file.metadata = metadata_;
  for (const TensorInfo& info : infos_) file.tensors.emplace_back(info.name, read(info.name));
  return file;
}

std::vector<fs::path> CheckpointSource::files() const {
  std::vector<fs::path> paths;
  for (const auto& shard : shards_) paths.emplace_back(shard->source());
  return paths;
}

}  // namespace peft
