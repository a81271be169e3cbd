// The text_classification task: text + label records, labels made contiguous ids from the training split, a new
// head over the last real token of the llama backbone (HF's LlamaForSequenceClassification), through peft run.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "peft/backbone.h"
#include "peft/error.h"
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

peft::TaskData read(const TempFolder& folder, peft::Backbone& backbone) {
  const auto& entry = peft::test::builtin_registry().tasks().at("text_classification");
  const auto task = entry.create(peft::Options());
  peft::DataRequest request;
  request.options = peft::resolve_options(entry.options, {{"root", (folder / "data").string()}}, "test [data]");
  request.recipe_folder = folder.path();
  request.backbone = &backbone;
  return task->read_data(request);
}

std::string read_error(const TempFolder& folder, peft::Backbone& backbone) {
  try {
    read(folder, backbone);
  } catch (const peft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("text_classification maps labels from the training split and pools the last real token",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  const auto llama = peft::test::make_backbone("llama", {{"config", (model / "config.json").string()}});
  write_text(folder / "data/train.jsonl",
             "{\"text\": \"a fine day\", \"label\": \"pos\"}\n{\"text\": \"awful\", \"label\": \"neg\"}\n"
             "{\"text\": \"so so\", \"label\": \"meh\"}\n");
  write_text(folder / "data/val.jsonl", "{\"text\": \"lovely\", \"label\": \"pos\"}\n");
  const peft::TaskData data = read(folder, *llama);
  CATCH_CHECK(data.num_classes == 3);
  // Sorted: meh 0, neg 1, pos 2.
  const peft::Batch first = *data.train->example(0, 0);
  CATCH_CHECK(first.at(peft::keys::labels).item<std::int64_t>() == 2);
  CATCH_CHECK(data.train->example(1, 0)->at(peft::keys::labels).item<std::int64_t>() == 1);
  const peft::Tokenizer& tokenizer = *llama->tokenizer();
  const at::Tensor ids = first.at(peft::keys::input_ids);
  CATCH_CHECK(std::vector<std::int64_t>(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel()) ==
              tokenizer.encode_sequence("a fine day"));
  const peft::Batch batch = data.train->collate({first, *data.train->example(1, 0)});
  CATCH_CHECK(batch.at(peft::keys::labels).sizes() == at::IntArrayRef({2}));

  // The head reads each sequence's last real token: a padded row gives what the row gives alone.
  llama->classifier()->reset_classifier(3);
  CATCH_CHECK(llama->classifier()->num_classes() == 3);
  CATCH_CHECK(llama->head_parameters().front().first == "score.weight");
  at::NoGradGuard no_grad;
  const at::Tensor padded = llama->forward(batch).at(peft::keys::logits);
  CATCH_CHECK(padded.sizes() == at::IntArrayRef({2, 3}));
  const peft::Batch alone = data.train->collate({*data.train->example(1, 0)});
  const at::Tensor single = llama->forward(alone).at(peft::keys::logits);
  CATCH_CHECK(peft::test::relative_error(padded[1], single[0]) < 1e-5);

  write_text(folder / "data/val.jsonl", "{\"text\": \"odd\", \"label\": \"other\"}\n");
  CATCH_CHECK(read_error(folder, *llama) == "[data] " + (folder / "data/val.jsonl").string() +
                                                ":1: label \"other\" is not among the training split's 3 labels "
                                                "(\"meh\", \"neg\", \"pos\")");
  write_text(folder / "data/val.jsonl", "{\"text\": \"odd\"}\n");
  CATCH_CHECK(read_error(folder, *llama) == "[data] " + (folder / "data/val.jsonl").string() +
                                                ":1: no 'label' field (text classification: text, label)");
  write_text(folder / "data/val.jsonl", "{\"text\": \"odd\", \"label\": 1.5}\n");
  CATCH_CHECK(read_error(folder, *llama) ==
              "[data] " + (folder / "data/val.jsonl").string() + ":1: 'label' is 1.5, expected an integer or a string");
}

CATCH_TEST_CASE("LoRA and a new head classify texts with a llama model folder through peft run and peft eval",
                "[tokenizer]") {
  TempFolder folder;
  const fs::path model = peft::test::llama_model_folder(folder);
  std::string train;
  const char* good[] = {"good", "great", "fine", "nice"};
  const char* bad[] = {"bad", "awful", "poor", "sad"};
  for (int i = 0; i < 32; ++i) {
    const bool positive = i % 2 == 0;
    train += std::string("{\"text\": \"a ") + (positive ? good[i / 2 % 4] : bad[i / 2 % 4]) +
             " one\", \"label\": " + (positive ? "1" : "0") + "}\n";
  }
  write_text(folder / "data/train.jsonl", train);
  write_text(folder / "data/val.jsonl", train);
  const fs::path recipe = folder / "recipe.toml";
  write_text(recipe,
             "schema_version = 1\ntask = \"text_classification\"\nseed = 1\nthreads = 1\n[backbone]\n"
             "plugin = \"llama\"\ncheckpoint = \"" +
                 model.string() +
                 "\"\n[method]\nplugin = \"lora\"\ntargets = [\"q_proj\", \"v_proj\"]\n[data]\nroot = \"data\"\n"
                 "workers = 1\n[train]\nepochs = 4\nbatch_size = 8\nlr = 0.02\nwarmup_epochs = 0\neval_every = 4\n");
  const fs::path run = folder / "run";
  const auto trained = peft::test::run_peft("run " + peft::test::quoted(recipe) + " --out " + peft::test::quoted(run));
  CATCH_INFO(trained.err);
  CATCH_REQUIRE(trained.exit_code == 0);
  const auto summary = peft::test::read_json(run / "summary.json");
  CATCH_CHECK(summary["task"] == "text_classification");
  CATCH_CHECK(summary["trainable_parameters"]["head"] == 64 * 2);
  CATCH_CHECK(summary["final"]["top1"].get<double>() > 0.9);
  const auto config = peft::test::read_json(run / "adapter_config.json");
  CATCH_CHECK(config["task_type"] == "SEQ_CLS");
  CATCH_CHECK(config["modules_to_save"] == nlohmann::json::array({"score"}));
  // peft eval rebuilds the head from the run's record and scores the same.
  const auto evaluated = peft::test::run_peft("eval " + peft::test::quoted(run) + " --json");
  CATCH_INFO(evaluated.err);
  CATCH_REQUIRE(evaluated.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(evaluated.out)["top1"] == summary["final"]["top1"]);
}
