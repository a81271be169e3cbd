#pragma once

#include <filesystem>
#include <string>

#include "support/temp_folder.h"

namespace peft::test {

/// `folder`/model: a random tiny llama (the reference fixture's config with the fixture SentencePiece tokenizer's
/// 512-token vocabulary and 512 positions, seed 5) saved as a Hugging Face model folder with that tokenizer.model.
std::filesystem::path llama_model_folder(const TempFolder& folder);

/// `folder`/NAME.toml: a causal_lm recipe (seed 2, one thread) on the llama folder `model` over `folder`/data, which
/// it writes: `records` counting prompts ("Count on from 3." → "4 5") to train on, the first of them to validate on.
/// `tables` are the recipe's other TOML tables ([method], [output], ...), `train` its [train] keys.
std::filesystem::path counting_recipe(const TempFolder& folder, const std::filesystem::path& model,
                                      const std::string& name, const std::string& tables, const std::string& train,
                                      int records);

}  // namespace peft::test
