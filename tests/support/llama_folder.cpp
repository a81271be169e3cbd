#include "support/llama_folder.h"

#include <ATen/ATen.h>

#include <fstream>

#include "peft/backbone.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "support/builtin_plugins.h"

namespace fs = std::filesystem;

namespace peft::test {

fs::path llama_model_folder(const TempFolder& folder) {
  const fs::path model = folder / "model";
  fs::create_directories(model);
  std::ifstream in(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "llama_tiny" / "config.json");
  std::string config(std::istreambuf_iterator<char>(in), {});
  config.replace(config.find("\"vocab_size\": 97"), std::string("\"vocab_size\": 97").size(), "\"vocab_size\": 512");
  const std::string positions = "\"max_position_embeddings\": 64";
  config.replace(config.find(positions), positions.size(), "\"max_position_embeddings\": 512");
  write_text(model / "config.json", config);
  fs::copy_file(fs::path(PEFT_REFERENCE_FIXTURE_DIR) / "sentencepiece" / "tokenizer.model", model / "tokenizer.model");
  at::manual_seed(5);
  const auto llama = make_backbone("llama", {{"config", (model / "config.json").string()}});
  write_safetensors(model / "model.safetensors", state_dict(*llama));
  return model;
}

fs::path counting_recipe(const TempFolder& folder, const fs::path& model, const std::string& name,
                         const std::string& tables, const std::string& train, int records) {
  std::string lines;
  for (int i = 0; i < records; ++i) {
    lines += R"({"prompt": "Count on from )" + std::to_string(i % 7) + R"(.", "completion": ")" +
             std::to_string(i % 7 + 1) + " " + std::to_string(i % 7 + 2) + "\"}\n";
  }
  write_text(folder / "data/train.jsonl", lines);
  write_text(folder / "data/val.jsonl", lines.substr(0, lines.find('\n') + 1));
  const fs::path recipe = folder / (name + ".toml");
  write_text(recipe,
             "schema_version = 1\ntask = \"causal_lm\"\nseed = 2\nthreads = 1\n[backbone]\nplugin = "
             "\"llama\"\ncheckpoint = \"" +
                 model.string() + "\"\n" + tables + "[data]\nroot = \"data\"\nworkers = 0\n[train]\n" + train);
  return recipe;
}

}  // namespace peft::test
