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

}  // namespace peft::test
