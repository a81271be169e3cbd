// Bench 7's peft side: the llama backbone's training step and generation, as bench/llama.sh times them against
// bench/reference/llama_reference.py (the same model folder in plain PyTorch). One mode per process, one JSON line:
//
//   llama_bench make --out DIR --hidden 512 --layers 8 --heads 8 --kv-heads 2 --intermediate 1408 --vocab 32000
//                    [--shards 2] [--dtype bf16|f16|f32]      random weights (seed 0) as a HF model folder
//   llama_bench train --model DIR [--batch 2] [--seq 256] [--steps 4] [--threads N] [--device cpu|cuda]
//       LoRA r 8, alpha 16 on q_proj and v_proj, AdamW lr 1e-4; each step: forward, next-token cross-entropy,
//       backward, update; step seconds after one warm-up step, and the first step's loss (B = 0: the base model's)
//   llama_bench generate --model DIR [--prompt 32] [--new 64] [--repeats 3] [--threads N] [--device cpu|cuda]
//       greedy, key/value cache, no EOS; new tokens per second (prefill included; median of the repeats after a
//       warm-up) and the tokens
//   llama_bench load --model DIR
//       the process's peak resident memory before and after loading the folder in float32
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "adapted_model.h"
#include "bench_util.h"
#include "generate.h"
#include "memory_reuse.h"
#include "model_builder.h"
#include "peft/checkpoint_source.h"
#include "peft/safetensors.h"
#include "peft/state_dict.h"
#include "plugin_loader.h"
#include "train/optimizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::map<std::string, std::string> flags(int argc, char** argv) {
  std::map<std::string, std::string> given;
  for (int i = 2; i + 1 < argc; i += 2) given[std::string(argv[i]).substr(2)] = argv[i + 1];
  return given;
}

std::int64_t integer(const std::map<std::string, std::string>& given, const std::string& name, std::int64_t fallback) {
  const auto found = given.find(name);
  return found == given.end() ? fallback : std::stoll(found->second);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Token t of sequence b: the same formula in llama_reference.py, so both sides read the same batch.
at::Tensor token_ids(std::int64_t batch, std::int64_t length, std::int64_t vocab) {
  const at::Tensor b = at::arange(batch, at::kLong).view({-1, 1});
  const at::Tensor t = at::arange(length, at::kLong).view({1, -1});
  return (b * 7919 + t * 104729 + (t * t) % 13) % vocab;
}

void make(const std::map<std::string, std::string>& given) {
  const fs::path out = given.at("out");
  fs::create_directories(out);
  const std::int64_t hidden = integer(given, "hidden", 512);
  json config = {{"architectures", json::array({"LlamaForCausalLM"})},
                 {"model_type", "llama"},
                 {"hidden_size", hidden},
                 {"intermediate_size", integer(given, "intermediate", 1408)},
                 {"num_hidden_layers", integer(given, "layers", 8)},
                 {"num_attention_heads", integer(given, "heads", 8)},
                 {"num_key_value_heads", integer(given, "kv-heads", 2)},
                 {"vocab_size", integer(given, "vocab", 32000)},
                 {"max_position_embeddings", 2048},
                 {"rms_norm_eps", 1e-5},
                 {"rope_theta", 10000.0},
                 {"tie_word_embeddings", false},
                 {"hidden_act", "silu"},
                 {"bos_token_id", 1},
                 {"eos_token_id", 2}};
  std::ofstream(out / "config.json") << config.dump(2);
  const peft::PluginSet plugins = peft::discover_plugins({}, true);
  peft::BackboneSection section;
  section.plugin = "llama";
  section.context = "bench";
  section.options["config"] = (out / "config.json").string();
  at::manual_seed(0);
  auto llama = peft::build_backbone(plugins.registry, section).backbone;
  const std::string dtype = given.count("dtype") ? given.at("dtype") : "bf16";
  const at::ScalarType type = dtype == "f32" ? at::kFloat : dtype == "f16" ? at::kHalf : at::kBFloat16;
  // Random init as Linear/Embedding give it is far from a trained model's scale; 0.02 normal keeps logits sane.
  peft::NamedTensors tensors;
  for (auto& [name, tensor] : peft::state_dict(*llama)) {
    const bool norm = name.find("norm") != std::string::npos;
    tensors.emplace_back(name, (norm ? at::ones_like(tensor) : at::randn_like(tensor) * 0.02).to(type));
  }
  const std::int64_t shards = integer(given, "shards", 1);
  if (shards == 1) {
    peft::write_safetensors(out / "model.safetensors", tensors, {{"format", "pt"}});
    return;
  }
  json weight_map = json::object();
  const std::size_t per_shard = (tensors.size() + shards - 1) / static_cast<std::size_t>(shards);
  for (std::int64_t shard = 0; shard < shards; ++shard) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05lld-of-%05lld.safetensors", static_cast<long long>(shard + 1),
                  static_cast<long long>(shards));
    peft::NamedTensors part;
    for (std::size_t i = shard * per_shard; i < std::min(tensors.size(), (shard + 1) * per_shard); ++i) {
      part.push_back(tensors[i]);
      weight_map[tensors[i].first] = name;
    }
    peft::write_safetensors(out / name, part, {{"format", "pt"}});
  }
  std::ofstream(out / "model.safetensors.index.json")
      << json{{"metadata", json::object()}, {"weight_map", weight_map}}.dump(2);
}

// The device a mode runs on: --device (default cpu).
at::Device device_of(const std::map<std::string, std::string>& given) {
  return at::Device(given.count("device") ? given.at("device") : "cpu");
}

peft::AdaptedModel load(const peft::Registry& registry, const fs::path& folder, bool lora, const at::Device& device) {
  peft::BackboneSection section;
  section.plugin = "llama";
  section.context = "bench";
  section.checkpoint = folder;
  auto backbone = peft::build_backbone(registry, section).backbone;
  backbone->to(device);  // before the method: its tensors are made where the backbone is, as in peft run
  peft::MethodSection method;
  method.plugin = lora ? "lora" : "full";
  method.context = "bench";
  if (lora) {
    method.targets = {"q_proj", "v_proj"};
    method.options = {{"r", std::int64_t{8}}, {"lora_alpha", 16.0}};
  }
  return peft::adapt(registry, backbone, method, false);
}

json train(const peft::Registry& registry, const std::map<std::string, std::string>& given) {
  const at::Device device = device_of(given);
  peft::AdaptedModel model = load(registry, given.at("model"), true, device);
  peft::TrainOptions options;
  options.weight_decay = 0.01;
  peft::Optimizer optimizer(options, model.trainable);
  const std::int64_t batch = integer(given, "batch", 2);
  const std::int64_t length = integer(given, "seq", 256);
  const at::Tensor probe = model.backbone->named_parameters()["model.embed_tokens.weight"];
  const at::Tensor ids = token_ids(batch, length, probe.size(0)).to(device);
  const at::Tensor inputs = ids.narrow(1, 0, length - 1);
  const at::Tensor targets = ids.narrow(1, 1, length - 1).reshape({-1});
  model.train(true);
  const auto step = [&] {
    optimizer.zero_grad();
    const at::Tensor logits = model.logits({{peft::keys::input_ids, inputs}});
    const at::Tensor loss = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets);
    loss.backward();
    optimizer.step(1e-4);
    return loss.item<double>();
  };
  const double first_loss = step();
  std::vector<double> seconds;
  for (std::int64_t i = 0; i < integer(given, "steps", 4); ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    seconds.push_back(peft::bench::seconds_since(start));
  }
  return {{"step_s", peft::bench::median(seconds)}, {"first_loss", first_loss}, {"steps", seconds}};
}

json generate(const peft::Registry& registry, const std::map<std::string, std::string>& given) {
  peft::AdaptedModel model = load(registry, given.at("model"), false, device_of(given));
  const at::Tensor probe = model.backbone->named_parameters()["model.embed_tokens.weight"];
  const at::Tensor prompt_ids = token_ids(1, integer(given, "prompt", 32), probe.size(0))[0].contiguous();
  const std::vector<std::int64_t> prompt(prompt_ids.data_ptr<std::int64_t>(),
                                         prompt_ids.data_ptr<std::int64_t>() + prompt_ids.numel());
  peft::GenerateOptions options;
  options.max_new_tokens = integer(given, "new", 64);
  peft::generate_ids(model, prompt, std::nullopt, options);  // warm-up
  std::vector<double> rates;
  peft::Generation generation;
  for (std::int64_t i = 0; i < integer(given, "repeats", 3); ++i) {
    const auto start = std::chrono::steady_clock::now();
    generation = peft::generate_ids(model, prompt, std::nullopt, options);
    rates.push_back(static_cast<double>(generation.new_ids.size()) / peft::bench::seconds_since(start));
  }
  return {{"tokens_per_s", peft::bench::median(rates)}, {"tokens", generation.new_ids}};
}

}  // namespace

int main(int argc, char** argv) {
  peft::keep_freed_memory();  // as the peft command does
  if (argc < 2) {
    std::fprintf(stderr, "usage: llama_bench make|train|generate|load --flag value ... (see the source's header)\n");
    return 1;
  }
  const std::string mode = argv[1];
  const auto given = flags(argc, argv);
  if (mode == "make") {
    make(given);
    return 0;
  }
  if (given.count("threads")) at::set_num_threads(static_cast<int>(integer(given, "threads", 1)));
  const peft::PluginSet plugins = peft::discover_plugins({}, true);
  json result{{"side", "peft"}, {"mode", mode}, {"threads", at::get_num_threads()}};
  if (mode == "train") result.update(train(plugins.registry, given));
  if (mode == "generate") result.update(generate(plugins.registry, given));
  if (mode == "load") {  // built (random init), then the checkpoint copied in tensor by tensor
    const double before = peak_rss_mib();
    peft::BackboneSection section;
    section.plugin = "llama";
    section.context = "bench";
    section.options["config"] = (fs::path(given.at("model")) / "config.json").string();
    const auto backbone = peft::build_backbone(plugins.registry, section).backbone;
    const double built = peak_rss_mib();
    backbone->load_checkpoint(peft::CheckpointSource::open(given.at("model")));
    std::int64_t bytes = 0;
    for (const auto& parameter : backbone->parameters()) bytes += parameter.numel() * 4;
    result.update({{"peak_before_mib", before},
                   {"peak_built_mib", built},
                   {"peak_after_mib", peak_rss_mib()},
                   {"model_f32_mib", static_cast<double>(bytes) / (1 << 20)}});
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
