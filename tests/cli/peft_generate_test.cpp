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

  // A prompt from a file or standard input (past the shell's argument limit: 1 MB here) is the same prompt.
  peft::test::write_text(folder / "prompt.txt", "Hello, world");
  const std::string from_file =
      "generate " + quoted(model) + " --prompt-file " + quoted(folder / "prompt.txt") + " --max-new-tokens 6 --json";
  CATCH_CHECK(nlohmann::json::parse(run_peft(from_file).out)["ids"] == out["ids"]);
  const auto from_stdin =
      peft::test::run_command("printf 'Hello, world' | PEFT_PLUGIN_PATH= " + quoted(PEFT_EXECUTABLE) + " generate " +
                              quoted(model) + " --prompt-file - --max-new-tokens 6 --json");
  CATCH_REQUIRE(from_stdin.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(from_stdin.out)["ids"] == out["ids"]);
  peft::test::write_text(folder / "long.txt", std::string(1 << 20, 'a'));
  peft::test::check_user_error(
      run_peft("generate " + quoted(model) + " --prompt-file " + quoted(folder / "long.txt") + " --max-new-tokens 1"),
      "leaving no room before the model's maximum");
  peft::test::check_user_error(run_peft("generate " + quoted(model) + " --max-new-tokens 1"),
                               "give the text to continue: --prompt TEXT or --prompt-file FILE");
  peft::test::check_user_error(run_peft("generate " + quoted(model) + " --prompt-file " + quoted(folder / "none")),
                               "--prompt-file " + (folder / "none").string() + " does not exist");
  peft::test::check_user_error(
      run_peft("generate " + quoted(folder.path()) + " --prompt x"),
      folder.path().string() + " is neither a run folder (recipe.toml) nor a model folder (config.json)");
}
