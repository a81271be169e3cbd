// Checkpoint sources: one safetensors file, or Hugging Face's sharded layout (model.safetensors.index.json and its
// shards), read tensor by tensor into a module.
#include "peft/checkpoint_source.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>

#include "contract/tiny_lm.h"
#include "peft/error.h"
#include "peft/state_dict.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

// `model`'s tensors in two shards with an index, as transformers' save_pretrained(max_shard_size=...) writes them:
// the embedding and proj in the first, the head in the second (in BF16, to be cast on load).
void write_sharded(const fs::path& folder, peft::Backbone& model) {
  peft::NamedTensors first;
  peft::NamedTensors second;
  for (const auto& [name, tensor] : peft::state_dict(model)) {
    if (name.rfind("lm_head", 0) == 0) {
      second.emplace_back(name, tensor.detach().to(at::kBFloat16));
    } else {
      first.emplace_back(name, tensor.detach());
    }
  }
  peft::write_safetensors(folder / "model-00001-of-00002.safetensors", first);
  peft::write_safetensors(folder / "model-00002-of-00002.safetensors", second);
  std::string map;
  for (const auto& [name, tensor] : first) map += "\"" + name + "\": \"model-00001-of-00002.safetensors\", ";
  for (const auto& [name, tensor] : second) map += "\"" + name + "\": \"model-00002-of-00002.safetensors\", ";
  map.resize(map.size() - 2);
  write_text(folder / "model.safetensors.index.json",
             "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {" + map + "}}");
}

bool same_weights(peft::Backbone& a, peft::Backbone& b) {
  const peft::NamedTensors x = peft::state_dict(a);
  const peft::NamedTensors y = peft::state_dict(b);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!at::equal(x[i].second, y[i].second)) return false;
  }
  return true;
}

std::string open_error(const fs::path& path) {
  try {
    peft::CheckpointSource::open(path);
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("a sharded checkpoint folder loads tensor by tensor, cast to the model's dtype, as one file would") {
  TempFolder folder;
  at::manual_seed(1);
  peft::contract::TinyLm saved;
  // The head in BF16 is what the model gets back: the saved head rounded once.
  {
    at::NoGradGuard no_grad;
    for (auto& p : saved.parameters()) p.copy_(p.to(at::kBFloat16).to(at::kFloat));
  }
  write_sharded(folder.path(), saved);

  for (const fs::path& path : {folder.path(), folder / "model.safetensors.index.json"}) {
    const peft::CheckpointSource source = peft::CheckpointSource::open(path);
    CATCH_CHECK(source.files().size() == 2);
    CATCH_REQUIRE(source.tensors().size() == 4);
    CATCH_CHECK(source.tensors()[0].name == "embed.weight");
    CATCH_CHECK(source.tensors()[3].name == "lm_head.weight");
    CATCH_CHECK(source.tensors()[3].dtype == at::kBFloat16);
    at::manual_seed(2);
    peft::contract::TinyLm loaded;
    CATCH_CHECK_FALSE(same_weights(saved, loaded));
    CATCH_CHECK(loaded.load_checkpoint(source).empty());
    CATCH_CHECK(same_weights(saved, loaded));
    CATCH_CHECK(loaded.named_parameters()["lm_head.weight"].scalar_type() == at::kFloat);
  }

  // One file, and tensors already in memory, are sources too.
  peft::write_safetensors(folder / "one.safetensors", peft::state_dict(saved));
  peft::contract::TinyLm from_file;
  from_file.load_checkpoint(peft::CheckpointSource::open(folder / "one.safetensors"));
  CATCH_CHECK(same_weights(saved, from_file));
  peft::contract::TinyLm from_memory;
  from_memory.load_checkpoint(peft::read_safetensors(folder / "one.safetensors"));
  CATCH_CHECK(same_weights(saved, from_memory));
}

CATCH_TEST_CASE("a checkpoint that does not fit is refused whole, before any tensor is copied") {
  TempFolder folder;
  peft::contract::TinyLm other_vocab(20, 8);
  write_sharded(folder.path(), other_vocab);
  peft::contract::TinyLm model;
  const peft::NamedTensors before = peft::state_dict(model);
  std::vector<at::Tensor> copies;
  for (const auto& [name, tensor] : before) copies.push_back(tensor.clone());
  CATCH_CHECK_THROWS_WITH(model.load_checkpoint(peft::CheckpointSource::open(folder.path())),
                          "[checkpoint] " + folder.path().string() +
                              " does not fit the model: shape mismatches: embed.weight (file [20, 8], expected "
                              "[16, 8]), lm_head.weight (file [20, 8], expected [16, 8])");
  for (std::size_t i = 0; i < before.size(); ++i) CATCH_CHECK(at::equal(before[i].second, copies[i]));
}

CATCH_TEST_CASE("a checkpoint tensor of an integer dtype is refused by name, from a file or tensors in memory") {
  TempFolder folder;
  peft::contract::TinyLm model;
  peft::NamedTensors tensors = peft::state_dict(model);
  for (auto& [name, tensor] : tensors) tensor = tensor.detach().clone();
  tensors.front().second = tensors.front().second.to(at::kLong);
  const std::string first = tensors.front().first;
  peft::write_safetensors(folder / "ints.safetensors", tensors);
  const std::string expected =
      " does not fit the model: dtype mismatches: " + first + " (file Long, expected floating point)";
  CATCH_CHECK_THROWS_WITH(model.load_checkpoint(peft::CheckpointSource::open(folder / "ints.safetensors")),
                          Catch::EndsWith(expected));
  CATCH_CHECK_THROWS_WITH(peft::load_state_dict(model, tensors, "in memory"), Catch::EndsWith(expected));
  // Floating point of another width is cast, as before.
  tensors.front().second = tensors.front().second.to(at::kHalf);
  CATCH_CHECK_NOTHROW(peft::load_state_dict(model, tensors, "in memory"));
}

CATCH_TEST_CASE("a broken shard index is one error naming the index and the shard") {
  TempFolder folder;
  peft::contract::TinyLm model;
  write_sharded(folder.path(), model);
  const std::string index = (folder / "model.safetensors.index.json").string();

  fs::rename(folder / "model-00002-of-00002.safetensors", folder / "moved.safetensors");
  CATCH_CHECK(open_error(folder.path()) == "[checkpoint] " + index +
                                               " names shard model-00002-of-00002.safetensors, which is not in " +
                                               folder.path().string());
  fs::rename(folder / "moved.safetensors", folder / "model-00002-of-00002.safetensors");

  write_text(folder / "model.safetensors.index.json",
             R"({"weight_map": {"embed.weight": "model-00002-of-00002.safetensors"}})");
  CATCH_CHECK(open_error(folder.path()) == "[checkpoint] " + index +
                                               " places embed.weight in model-00002-of-00002.safetensors, which has no "
                                               "such tensor");
  write_text(folder / "model.safetensors.index.json",
             R"({"weight_map": {"embed.weight": "../elsewhere.safetensors"}})");
  CATCH_CHECK(open_error(folder.path()) ==
              "[checkpoint] " + index +
                  ": shard '../elsewhere.safetensors' of embed.weight is not a file name in the folder");
  write_text(folder / "model.safetensors.index.json", R"({"shards": []})");
  CATCH_CHECK(open_error(folder.path()) ==
              "[checkpoint] " + index + ": expected a JSON object with a weight_map object");

  fs::remove(folder / "model.safetensors.index.json");
  CATCH_CHECK(open_error(folder.path()) == "[checkpoint] " + folder.path().string() +
                                               " has neither model.safetensors.index.json nor model.safetensors");
  CATCH_CHECK(open_error(folder / "missing.safetensors") ==
              "[checkpoint] " + (folder / "missing.safetensors").string() + " does not exist");
}
