#pragma once

#include <filesystem>

#include "support/temp_folder.h"

namespace peft::test {

/// `folder`/model: a random tiny llama (the reference fixture's config with the fixture SentencePiece tokenizer's
/// 512-token vocabulary and 512 positions, seed 5) saved as a Hugging Face model folder with that tokenizer.model.
std::filesystem::path llama_model_folder(const TempFolder& folder);

}  // namespace peft::test
