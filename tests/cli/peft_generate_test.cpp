// `peft generate` on a Hugging Face model folder: config.json, weights, SentencePiece tokenizer.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "peft/backbone.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "peft/tokenizer.h"
#include "support/builtin_plugins.h"
#include "support/llama_folder.h"
#include "support/run_command.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::run_peft;
using peft::test::TempFolder;

CATCH_TEST_CASE("peft generate continues a prompt from a model folder; the cache changes nothing but speed",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  const std::string command = "generate " + quoted(model) + " --prompt 'Hello, world' --max-new-tokens 6 --json";
  const auto cached = run_peft(command);
  CATCH_INFO(cached.err);
  CATCH_REQUIRE(cached.exit_code == 0);
  const auto out = nlohmann::json::parse(cached.out);
  CATCH_CHECK(out["prompt"] == "Hello, world");
  const std::size_t count = out["ids"].size();
  CATCH_CHECK((count == 6 || out["stopped_at_eos"].get<bool>()));
  // The printed text continues the prompt as the tokens read after it, leading space included.
  const auto llama = peft::test::make_backbone("llama", {{"config", (model / "config.json").string()}});
  const peft::Tokenizer& tokenizer = *llama->tokenizer();
  std::vector<std::int64_t> ids = tokenizer.encode("Hello, world");
  for (const auto& id : out["ids"]) ids.push_back(id.get<std::int64_t>());
  CATCH_CHECK("Hello, world" + out["text"].get<std::string>() == tokenizer.decode(ids));

  const auto full = run_peft(command + " --no-cache");
  CATCH_REQUIRE(full.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(full.out)["ids"] == out["ids"]);
  CATCH_CHECK(nlohmann::json::parse(full.out)["text"] == out["text"]);

  // Sampling is seeded.
  const std::string sampled = command + " --temperature 1.0 --top-p 0.9 --seed 3";
  CATCH_CHECK(run_peft(sampled).out == run_peft(sampled).out);
  // Sampling settings are checked as recipe keys are: no NaN, no empty nucleus, no negative seed (each once ended in
  // an internal error or was taken as something else).
  peft::test::check_user_error(run_peft(command + " --temperature nan"),
                               "--temperature: nan is not a number in [0, 100]");
  peft::test::check_user_error(run_peft(command + " --top-p 0"), "--top-p: 0 is not a number in (0, 1]");
  peft::test::check_user_error(run_peft(command + " --top-p nan"), "--top-p: nan is not a number in (0, 1]");
  peft::test::check_user_error(run_peft(command + " --seed -1"), "--seed: -1 is not an integer in [0, 10^19)");
  CATCH_CHECK(run_peft(command + " --top-p 1 --temperature 0.5").exit_code == 0);

  peft::test::check_user_error(
      run_peft("generate " + quoted(folder.path()) + " --prompt x"),
      folder.path().string() + " is neither a run folder (recipe.toml) nor a model folder (config.json)");
}
