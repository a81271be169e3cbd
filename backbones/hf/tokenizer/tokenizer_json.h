#pragma once
// tokenizer.json's `model` as a Model: BPE, WordPiece or Unigram; any other type is refused by name.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "model.h"

namespace peft::hf {

std::unique_ptr<Model> model_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace peft::hf
