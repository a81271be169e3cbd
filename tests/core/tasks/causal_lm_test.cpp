// The causal_lm task: text records as users have them (JSON Lines, JSON arrays; plain text, Alpaca,
// prompt/completion) tokenised with the backbone's tokenizer, labels -100 on the prompt and on padding, the
// shifted loss; bad records named by file and line; and a LoRA run on a llama model folder through peft run.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "data/text_records.h"
#include "peft/backbone.h"
#include "peft/error.h"
#include "peft/safetensors.h"
#include "peft/task.h"
#include "peft/tokenizer.h"
#include "support/builtin_plugins.h"
#include "support/llama_folder.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::TempFolder;
using peft::test::write_text;

namespace {

struct TextTask {
  std::shared_ptr<peft::Backbone> llama;
  std::shared_ptr<peft::Task> task;
  peft::TaskData data;
};

TextTask read(const TempFolder& folder, const fs::path& model, std::map<std::string, peft::OptionValue> given) {
  const peft::Registry& registry = peft::test::builtin_registry();
  const auto& entry = registry.tasks().at("causal_lm");
  TextTask text;
  text.llama = peft::test::make_backbone("llama", {{"config", (model / "config.json").string()}});
  text.task = entry.create(peft::Options());
  given.emplace("root", (folder / "data").string());
  peft::DataRequest request;
  request.options = peft::resolve_options(entry.options, given, "test [data]");
  request.recipe_folder = folder.path();
  request.backbone = text.llama.get();
  text.data = text.task->read_data(request);
  return text;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::int64_t> values(const at::Tensor& tensor) {
  const at::Tensor flat = tensor.contiguous();
  return {flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel()};
}

std::string read_error(const TempFolder& folder, const fs::path& model,
                       std::map<std::string, peft::OptionValue> given) {
  try {
    read(folder, model, std::move(given));
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("causal_lm tokenises Alpaca records as HF does: BOS, prompt and response, EOS; loss on the response",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  write_text(folder / "data/train.jsonl", R"({"instruction": "Reverse the word.", "input": "stone", "output": "enots"})"
                                          "\n\n"
                                          R"({"instruction": "Say hello.", "output": "Hello!"})"
                                          "\n");
  write_text(folder / "data/val.jsonl", R"({"instruction": "Say hello.", "input": "", "output": "Hello!"})");
  const TextTask text = read(folder, model, {});
  const peft::Tokenizer& tokenizer = *text.llama->tokenizer();
  CATCH_REQUIRE(text.data.train->size() == 2);  // the blank line is not a record

  const std::string prompt = peft::data::alpaca_prompt("Reverse the word.", "stone");
  CATCH_CHECK(prompt.find("### Input:\nstone\n\n### Response:\n") != std::string::npos);
  const std::optional<peft::Batch> got = text.data.train->example(0, 0);
  CATCH_REQUIRE(got.has_value());
  const peft::Batch first = *got;
  std::vector<std::int64_t> expected{*tokenizer.bos_id()};
  for (const auto id : tokenizer.encode(prompt + "enots")) expected.push_back(id);
  expected.push_back(*tokenizer.eos_id());
  CATCH_CHECK(values(first.at(peft::keys::input_ids)) == expected);
  const std::vector<std::int64_t> labels = values(first.at(peft::keys::labels));
  const std::size_t prompt_tokens = 1 + tokenizer.encode(prompt).size();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    CATCH_CHECK(labels[i] == (i < prompt_tokens ? -100 : expected[i]));
  }
  // The record without input gets Alpaca's shorter prompt.
  const std::vector<std::int64_t> second = values(text.data.train->example(1, 0)->at(peft::keys::input_ids));
  CATCH_CHECK(tokenizer.decode(second).find("paired with an input") == std::string::npos);

  // A batch pads on the right: attention 0, label -100; the loss averages over the response tokens only.
  std::vector<peft::Batch> examples{first, *text.data.train->example(1, 0)};
  const peft::Batch batch = text.data.train->collate(examples);
  const at::Tensor mask = batch.at(peft::keys::attention_mask);
  CATCH_CHECK(mask[1].sum().item<std::int64_t>() == static_cast<std::int64_t>(second.size()));
  CATCH_CHECK(batch.at(peft::keys::labels)[1]
                  .narrow(0, second.size(), mask.size(1) - second.size())
                  .eq(-100)
                  .all()
                  .item<bool>());
  at::manual_seed(0);
  const at::Tensor logits = at::randn({2, mask.size(1), 512});
  const peft::Loss loss = text.task->loss({{peft::keys::logits, logits}}, batch, {});
  const at::Tensor targets = batch.at(peft::keys::labels).narrow(1, 1, mask.size(1) - 1).reshape({-1});
  CATCH_CHECK(loss.weight == static_cast<double>(targets.ne(-100).sum().item<std::int64_t>()));
  const at::Tensor by_hand = at::cross_entropy_loss(logits.narrow(1, 0, mask.size(1) - 1).reshape({-1, 512}), targets);
  CATCH_CHECK(std::abs(loss.value.item<double>() - by_hand.item<double>()) < 1e-6);

  // train_on_prompt: every token but padding is a target.
  const TextTask whole = read(folder, model, {{"train_on_prompt", true}});
  CATCH_CHECK(values(whole.data.train->example(0, 0)->at(peft::keys::labels)) == expected);
}

CATCH_TEST_CASE("causal_lm reads plain text and prompt/completion, JSON arrays, and truncates at max_length",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  write_text(folder / "data/train.json",
             R"([{"prompt": "2 + 2 =", "completion": " 4"}, {"prompt": "3 + 3 =", "completion": " 6"}])");
  write_text(folder / "data/val.json", R"([{"prompt": "1 + 1 =", "completion": " 2"}])");
  const TextTask pairs = read(folder, model, {{"format", std::string("json")}});
  const peft::Tokenizer& tokenizer = *pairs.llama->tokenizer();
  const auto ids = values(pairs.data.train->example(0, 0)->at(peft::keys::input_ids));
  CATCH_CHECK(tokenizer.decode(ids) == "2 + 2 = 4");
  CATCH_CHECK(ids.back() == *tokenizer.eos_id());

  write_text(folder / "data/train.jsonl", R"({"text": "The quick brown fox jumps over the lazy dog."})");
  write_text(folder / "data/val.jsonl", R"({"text": "Hello, world!"})");
  const TextTask text = read(folder, model, {{"max_length", std::int64_t{5}}});
  const peft::Batch cut = *text.data.train->example(0, 0);
  CATCH_CHECK(cut.at(peft::keys::input_ids).size(0) == 5);
  CATCH_CHECK(values(cut.at(peft::keys::labels)) == values(cut.at(peft::keys::input_ids)));  // plain text: all targets
  CATCH_CHECK(values(cut.at(peft::keys::input_ids)).front() == *tokenizer.bos_id());
  CATCH_CHECK_THROWS_WITH(
      read(folder, model, {{"max_length", std::int64_t{5}}, {"truncation", false}}).data.train->example(0, 0),
      Catch::Contains("train.jsonl:1: 29 tokens, longer than max_length = 5 (truncation = false)"));
}

CATCH_TEST_CASE("bad text data is one line naming the file, the line and what was expected", "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  write_text(folder / "data/val.jsonl", R"({"text": "fine"})");
  const std::string train = (folder / "data/train.jsonl").string();
  write_text(train, "{\"text\": \"fine\"}\n{\"text\": \"oops\"\n");
  CATCH_CHECK(read_error(folder, model, {}) ==
              "[data] " + train + ":2: not a JSON object (JSON Lines: one record a line)");
  write_text(train, "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"c\"}\n");
  CATCH_CHECK(read_error(folder, model, {}) ==
              "[data] " + train + ":2: no 'output' field (template alpaca: instruction, input (optional), output)");
  write_text(train, "{\"text\": 3}\n");
  CATCH_CHECK(read_error(folder, model, {}) == "[data] " + train + ":1: 'text' is 3, expected text");
  write_text(train, "\n");
  CATCH_CHECK(read_error(folder, model, {}) == "[data] " + train + ": no records");
  // A line nested 100,000 levels deep (it crashed the process on a stack overflow): refused naming the line, in a
  // JSON array file too.
  write_text(train, "{\"text\": \"fine\"}\n" + std::string(100000, '[') + std::string(100000, ']') + "\n");
  CATCH_CHECK(read_error(folder, model, {}) == "[data] " + train + ":2: JSON nested deeper than 128 levels");
  const fs::path array_file = folder / "records.json";
  write_text(array_file, "[{\"text\": " + std::string(100000, '[') + std::string(100000, ']') + "}]");
  CATCH_CHECK_THROWS_WITH(peft::data::read_text_records(array_file, peft::data::TextTemplate::automatic),
                          "[data] " + array_file.string() + ": JSON nested deeper than 128 levels");
  fs::remove(train);
  CATCH_CHECK_THAT(read_error(folder, model, {}), Catch::Contains(train + " cannot be read"));
  write_text(train, "{\"text\": \"fine\"}\n");
  CATCH_CHECK_THAT(read_error(folder, model, {{"template", std::string("chat")}}), Catch::Contains("template"));
  // on_bad_sample = "skip": bad records are left out and counted in a notice; over-long ones when they come up.
  write_text(train, "{\"text\": \"fine\"}\n{\"text\": \"oops\"\n{\"txt\": \"typo\"}\n{\"text\": \"also fine\"}\n");
  const TextTask skipping = read(folder, model, {{"on_bad_sample", std::string("skip")}});
  CATCH_CHECK(skipping.data.train->size() == 2);
  CATCH_REQUIRE(skipping.data.notices.size() == 1);
  CATCH_CHECK(skipping.data.notices[0] == train + ": 2 of 4 records skipped (on_bad_sample = \"skip\"; the first: " +
                                              train + ":2: not a JSON object (JSON Lines: one record a line))");
  const TextTask short_skipping = read(
      folder, model, {{"on_bad_sample", std::string("skip")}, {"truncation", false}, {"max_length", std::int64_t{3}}});
  CATCH_CHECK_FALSE(short_skipping.data.train->example(1, 0).has_value());  // "also fine" is 4 tokens with BOS
  CATCH_CHECK(short_skipping.data.train->skipped() == 1);
  write_text(train, "{\"txt\": \"typo\"}\n");
  CATCH_CHECK_THAT(read_error(folder, model, {{"on_bad_sample", std::string("skip")}}),
                   Catch::Contains("train.jsonl: no usable records (1 skipped; the first: " + train +
                                   ":1: no 'text' field (template text: text))"));
  write_text(train, "{\"text\": \"fine\"}\n");
  CATCH_CHECK_THAT(read_error(folder, model, {{"max_length", std::int64_t{513}}}),
                   Catch::Contains("max_length = 513 is longer than the model's maximum of 512"));
}

CATCH_TEST_CASE("LoRA fine-tunes a llama model folder on JSON Lines through peft run, perplexity falling",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  std::string train;
  for (int i = 0; i < 24; ++i) {
    train += R"({"instruction": "Count on from )" + std::to_string(i % 7) + R"(.", "output": ")" +
             std::to_string(i % 7 + 1) + " " + std::to_string(i % 7 + 2) + "\"}\n";
  }
  write_text(folder / "data/train.jsonl", train);
  write_text(folder / "data/val.jsonl", train.substr(0, train.find('\n', train.find('\n') + 1) + 1));
  const fs::path recipe = folder / "recipe.toml";
  write_text(recipe,
             "schema_version = 1\ntask = \"causal_lm\"\nseed = 1\nthreads = 1\n[backbone]\nplugin = \"llama\"\n"
             "checkpoint = \"" +
                 model.string() +
                 "\"\n[method]\nplugin = \"lora\"\ntargets = [\"q_proj\", \"v_proj\"]\n"
                 "[data]\nroot = \"data\"\nworkers = 1\n[train]\nepochs = 3\nbatch_size = 8\nlr = 0.01\n"
                 "warmup_epochs = 0\neval_every = 1\n");
  const fs::path run = folder / "run";
  const auto trained = peft::test::run_peft("run " + peft::test::quoted(recipe) + " --out " + peft::test::quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  const auto summary = peft::test::read_json(run / "summary.json");
  CATCH_CHECK(summary["task"] == "causal_lm");
  CATCH_CHECK(summary["primary_metric"] == "perplexity");
  std::vector<double> perplexity;
  for (const auto& record : peft::test::metric_records(run)) {
    if (record["type"] == "eval") perplexity.push_back(record["perplexity"].get<double>());
  }
  CATCH_REQUIRE(perplexity.size() == 3);
  CATCH_CHECK(perplexity[2] < perplexity[0]);
  // peft eval --base: the model before fine-tuning (LoRA starts equal to it), scored higher than the run's.
  const auto evaluated = [&](const std::string& flags) {
    const auto result = peft::test::run_peft("eval " + peft::test::quoted(run) + " --json" + flags);
    CATCH_INFO(result.err);
    CATCH_REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
  };
  const nlohmann::json tuned = evaluated("");
  const nlohmann::json base = evaluated(" --base");
  CATCH_CHECK(base["base"] == true);
  CATCH_CHECK(tuned["perplexity"].get<double>() == Approx(perplexity[2]).epsilon(1e-5));
  CATCH_CHECK(base["perplexity"].get<double>() > 1.5 * tuned["perplexity"].get<double>());

  // peft generate puts the prompt in the template the run was trained with (auto: Alpaca, from its records), as
  // typing that template by hand gives; --raw gives the model the prompt as typed.
  const auto generated = [&](const std::string& arguments) {
    const auto result =
        peft::test::run_peft("generate " + peft::test::quoted(run) + " --max-new-tokens 3 --json" + arguments);
    CATCH_INFO(result.err);
    CATCH_REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
  };
  const std::string instruction = "Count on from 3.";
  const nlohmann::json templated = generated(" --prompt '" + instruction + "'");
  CATCH_CHECK(templated["template"] == "alpaca");
  CATCH_CHECK(templated["prompt"] == peft::data::alpaca_prompt(instruction, ""));
  peft::test::write_text(folder / "typed.txt", peft::data::alpaca_prompt(instruction, ""));
  const nlohmann::json typed = generated(" --raw --prompt-file " + peft::test::quoted(folder / "typed.txt"));
  CATCH_CHECK(typed["template"].is_null());
  CATCH_CHECK(typed["ids"] == templated["ids"]);
  const nlohmann::json raw = generated(" --raw --prompt '" + instruction + "'");
  CATCH_CHECK(raw["prompt"] == instruction);

  // The adapter in Hugging Face peft's layout for a causal LM: PeftModel.from_pretrained reads adapter_config.json's
  // task_type and base model, llama.cpp's convert_lora_to_gguf.py strips "base_model.model." from each key to find
  // the base tensor and accepts only lora_A / lora_B weights.
  const auto config = peft::test::read_json(run / "adapter_config.json");
  CATCH_CHECK(config["peft_type"] == "LORA");
  CATCH_CHECK(config["task_type"] == "CAUSAL_LM");
  CATCH_CHECK(config["base_model_name_or_path"] == model.string());
  CATCH_CHECK(config["target_modules"].size() == 4);
  CATCH_CHECK(config["target_modules"][0] == "model.layers.0.self_attn.q_proj");
  const peft::TensorFile adapter = peft::read_safetensors(run / "adapter_model.safetensors");
  CATCH_REQUIRE(adapter.tensors.size() == 8);
  for (const auto& [name, tensor] : adapter.tensors) {
    CATCH_INFO(name);
    CATCH_CHECK(name.rfind("base_model.model.model.layers.", 0) == 0);
    const bool lora = name.size() > 14 && (name.compare(name.size() - 14, 14, ".lora_A.weight") == 0 ||
                                           name.compare(name.size() - 14, 14, ".lora_B.weight") == 0);
    CATCH_CHECK(lora);
  }

  // peft merge writes a Hugging Face model folder (sharded past --max-shard-size, config and tokenizer copied) that
  // generates what the run generates.
  const fs::path merged = folder / "merged";
  const auto merging = peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(merged) +
                                            " --max-shard-size 200KB");
  CATCH_INFO(merging.err);
  CATCH_REQUIRE(merging.exit_code == 0);
  const auto index = peft::test::read_json(merged / "model.safetensors.index.json");
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) shards.insert(shard.get<std::string>());
  CATCH_CHECK(shards.size() > 1);
  CATCH_CHECK(shards.count("model-00001-of-0000" + std::to_string(shards.size()) + ".safetensors") == 1);
  for (const char* file : {"config.json", "tokenizer.model"}) CATCH_CHECK(fs::exists(merged / file));
  const std::string prompt = " --prompt 'Count on from 3.' --max-new-tokens 5 --json";
  // A merged folder is a plain model folder (no data template): the run's generation as typed, --raw, is its own.
  const auto from_run = peft::test::run_peft("generate " + peft::test::quoted(run) + " --raw" + prompt);
  const auto from_merged = peft::test::run_peft("generate " + peft::test::quoted(merged) + prompt);
  CATCH_REQUIRE(from_run.exit_code == 0);
  CATCH_REQUIRE(from_merged.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(from_merged.out)["ids"] == nlohmann::json::parse(from_run.out)["ids"]);
  peft::test::check_user_error(
      peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(merged)),
      merged.string() +
          " exists and is not empty (hint: --overwrite to replace the files written there, nothing "
          "else is removed; or another folder)");
  CATCH_CHECK_THAT(peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(model)).err,
                   Catch::Contains("will not write " + model.string() + ": it is the backbone checkpoint"));
  // Over the sharded folder as one file, the index there would shadow it: refused, and the index stays as it was.
  const std::string index_before = read_file(merged / "model.safetensors.index.json");
  peft::test::check_user_error(
      peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(merged) + " --overwrite"),
      (merged / "model.safetensors.index.json").string() +
          " would be read instead of the merged model.safetensors (hint: remove it, or merge into another folder)");
  CATCH_CHECK(read_file(merged / "model.safetensors.index.json") == index_before);
  CATCH_CHECK_FALSE(fs::exists(merged / "model.safetensors"));
  // And shards over a single-file folder: its model.safetensors would be read by transformers instead.
  const fs::path single = folder / "single";
  CATCH_REQUIRE(
      peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(single)).exit_code == 0);
  peft::test::check_user_error(
      peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(single) +
                           " --overwrite --max-shard-size 200KB"),
      (single / "model.safetensors").string() +
          " would be read instead of the merged shards (hint: remove it, or merge into another folder)");
  CATCH_CHECK_FALSE(fs::exists(single / "model.safetensors.index.json"));
}

CATCH_TEST_CASE("exact_match counts a prompted sequence whose whole response greedy decoding writes", "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  write_text(folder / "data/train.jsonl", R"({"prompt": "2 + 2 =", "completion": " 4"})");
  write_text(folder / "data/val.jsonl", R"({"prompt": "2 + 2 =", "completion": " 4"})");
  const TextTask text = read(folder, model, {});
  peft::Backbone& llama = *text.llama;
  llama.eval();
  const torch::NoGradGuard no_grad;
  // Greedy decoding by hand: four tokens after the prompt, the whole sequence re-run each step.
  std::vector<std::int64_t> ids{1, 17, 29, 5};
  const std::size_t prompt_length = ids.size();
  for (int step = 0; step < 4; ++step) {
    const peft::Outputs out = llama.forward({{peft::keys::input_ids, at::tensor(ids, at::kLong).unsqueeze(0)}});
    ids.push_back(out.at(peft::keys::logits)[0][-1].argmax().item<std::int64_t>());
  }
  const auto measured = [&](const std::vector<std::int64_t>& sequence, const std::vector<std::int64_t>& labels) {
    const peft::Batch batch{{peft::keys::input_ids, at::tensor(sequence, at::kLong).unsqueeze(0)},
                            {peft::keys::labels, at::tensor(labels, at::kLong).unsqueeze(0)}};
    peft::Tally tally;
    text.task->measure(llama.forward(batch), batch, peft::Pass::eval, tally);
    return text.task->values(tally);
  };
  std::vector<std::int64_t> labels = ids;
  std::fill(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(prompt_length), -100);
  CATCH_CHECK(peft::metric_value(measured(ids, labels), "exact_match") == 1.0);
  // Any other token in the response, and the sequence no longer matches.
  std::vector<std::int64_t> other = ids;
  other.back() = (other.back() + 1) % 32;
  std::vector<std::int64_t> other_labels = labels;
  other_labels.back() = other.back();
  CATCH_CHECK(peft::metric_value(measured(other, other_labels), "exact_match") == 0.0);
  // Plain text (no masked prompt) has no response to match: no exact_match at all.
  CATCH_CHECK_FALSE(peft::metric_value(measured(ids, ids), "exact_match").has_value());
}

CATCH_TEST_CASE("a llama pretrained from config.json alone starts as transformers' from_config and merges to a folder",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  // The architecture and tokenizer without weights: what a pretraining recipe starts from.
  const fs::path init = folder / "init";
  fs::create_directories(init);
  for (const char* file : {"config.json", "tokenizer.model"}) fs::copy_file(model / file, init / file);
  const auto llama = peft::test::make_backbone("llama", {{"config", (init / "config.json").string()}});
  for (const auto& item : llama->named_parameters()) {
    CATCH_INFO(item.key());
    if (item.value().dim() == 2) {  // every matrix N(0, initializer_range = 0.02), as _init_weights
      CATCH_CHECK(item.value().std().item<double>() == Approx(0.02).epsilon(0.1));
    } else {
      CATCH_CHECK(item.value().eq(1).all().item<bool>());  // the RMSNorm weights
    }
  }

  write_text(folder / "data/train.jsonl", "{\"text\": \"one two three four five six\"}\n");
  write_text(folder / "data/val.jsonl", "{\"text\": \"one two three\"}\n");
  const fs::path recipe = folder / "recipes/pretrain.toml";
  write_text(recipe,
             "schema_version = 1\ntask = \"causal_lm\"\nthreads = 1\n[backbone]\nplugin = \"llama\"\n"
             "config = \"../init/config.json\"\n[method]\nplugin = \"full\"\n[data]\nroot = \"../data\"\nworkers = 1\n"
             "[train]\nepochs = 1\nbatch_size = 1\nlr = 0.001\nwarmup_epochs = 0\n");
  const fs::path run = folder / "run";
  const auto trained = peft::test::run_peft("run " + peft::test::quoted(recipe) + " --out " + peft::test::quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  // The config path is kept absolute in the run's recipe, so the run resolves from anywhere.
  CATCH_CHECK(read_file(run / "recipe.toml").find("config = '" + (init / "config.json").string() + "'") !=
              std::string::npos);

  // Merging into the model's own folder is refused; elsewhere it is a model folder in the run's float32.
  CATCH_CHECK_THAT(
      peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(init) + " --overwrite").err,
      Catch::Contains("the backbone's model folder"));
  const fs::path merged = folder / "merged";
  const auto merging = peft::test::run_peft("merge " + peft::test::quoted(run) + " -o " + peft::test::quoted(merged));
  CATCH_INFO(merging.err);
  CATCH_REQUIRE(merging.exit_code == 0);
  CATCH_CHECK(fs::exists(merged / "config.json"));
  CATCH_CHECK(fs::exists(merged / "tokenizer.model"));
  const peft::TensorFile weights = peft::read_safetensors(merged / "model.safetensors");
  for (const auto& [name, tensor] : weights.tensors) CATCH_CHECK(tensor.scalar_type() == at::kFloat);
  const auto generated =
      peft::test::run_peft("generate " + peft::test::quoted(merged) + " --prompt one --max-new-tokens 3");
  CATCH_INFO(generated.err);
  CATCH_CHECK(generated.exit_code == 0);
}

CATCH_TEST_CASE("packing joins the records end to end and cuts max_length windows, as run_clm's group_texts",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  write_text(folder / "data/train.jsonl",
             "{\"prompt\": \"2 + 2 =\", \"completion\": \" 4\"}\n{\"prompt\": \"The quick brown\", \"completion\": "
             "\" fox jumps over the lazy dog.\"}\n{\"prompt\": \"Hello,\", \"completion\": \" world!\"}\n");
  write_text(folder / "data/val.jsonl", "{\"text\": \"Hi\"}\n");
  const TextTask one_each = read(folder, model, {});
  const TextTask packed = read(folder, model, {{"packing", true}, {"max_length", std::int64_t{8}}});
  // The records' sequences (BOS, prompt, response, EOS; the prompt masked), joined.
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < one_each.data.train->size(); ++i) {
    const peft::Batch example = *one_each.data.train->example(i, 0);
    for (auto id : values(example.at(peft::keys::input_ids))) ids.push_back(id);
    for (auto id : values(example.at(peft::keys::labels))) labels.push_back(id);
  }
  // Full windows of the joined sequence, in order, but for one that holds only prompt (nothing to train on).
  std::vector<std::ptrdiff_t> expected;
  for (std::size_t start = 0; start + 8 <= ids.size(); start += 8) {
    if (std::any_of(labels.begin() + static_cast<std::ptrdiff_t>(start) + 1,
                    labels.begin() + static_cast<std::ptrdiff_t>(start) + 8,
                    [](std::int64_t id) { return id != -100; }))
      expected.push_back(static_cast<std::ptrdiff_t>(start));
  }
  CATCH_CHECK(expected.size() < ids.size() / 8);  // this data has an all-prompt window, left out
  CATCH_REQUIRE(packed.data.train->size() == static_cast<std::int64_t>(expected.size()));
  for (std::size_t w = 0; w < expected.size(); ++w) {
    const peft::Batch window = *packed.data.train->example(static_cast<std::int64_t>(w), 0);
    const std::ptrdiff_t begin = expected[w];
    CATCH_CHECK(values(window.at(peft::keys::input_ids)) ==
                std::vector<std::int64_t>(ids.begin() + begin, ids.begin() + begin + 8));
    CATCH_CHECK(values(window.at(peft::keys::labels)) ==
                std::vector<std::int64_t>(labels.begin() + begin, labels.begin() + begin + 8));
  }
  // cache_tokens keeps each record's tokens: every epoch reads what an uncached split makes.
  const TextTask cached = read(folder, model, {{"cache_tokens", true}, {"max_length", std::int64_t{12}}});
  const TextTask uncached = read(folder, model, {{"max_length", std::int64_t{12}}});
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    for (std::int64_t i = 0; i < cached.data.train->size(); ++i) {
      const peft::Batch a = *cached.data.train->example(i, epoch);
      const peft::Batch b = *uncached.data.train->example(i, epoch);
      CATCH_CHECK(values(a.at(peft::keys::input_ids)) == values(b.at(peft::keys::input_ids)));
      CATCH_CHECK(values(a.at(peft::keys::labels)) == values(b.at(peft::keys::labels)));
      CATCH_CHECK(a.at(peft::keys::input_ids).size(0) <= 12);
    }
  }
  // A split shorter than one window is that one window.
  CATCH_REQUIRE(packed.data.eval->size() == 1);
  CATCH_CHECK(packed.data.eval->example(0, 0)->at(peft::keys::input_ids).size(0) < 8);
}
