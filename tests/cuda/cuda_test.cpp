// The GPU paths, where there is a GPU: hidden tests (tag [cuda]) that scripts/gpu_check.sh runs on a CUDA machine
// (`peft_tests "[cuda]"`); the CPU suite leaves them out. Each compares the GPU with the CPU on the same job.
#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "data/image_io.h"
#include "data/loader.h"
#include "distributed/process_groups.h"
#include "support/image_data.h"
#include "support/llama_folder.h"
#include "support/run_command.h"
#include "support/run_folder.h"
#include "support/temp_folder.h"
#include "support/tiny_task.h"

namespace fs = std::filesystem;
using peft::test::quoted;
using peft::test::read_json;
using peft::test::run_peft;
using peft::test::TempFolder;

namespace {

// A causal_lm LoRA recipe on the tiny llama (q/v, SGD) in `folder`.
fs::path llama_recipe(const TempFolder& folder) {
  const fs::path model = peft::test::llama_model_folder(folder);
  return peft::test::counting_recipe(folder, model, "llama",
                                     "[method]\nplugin = \"lora\"\ntargets = [\"q_proj\", \"v_proj\"]\n",
                                     "epochs = 2\nbatch_size = 8\noptimizer = \"sgd\"\nlr = 0.5\n", 24);
}

double final_loss(const fs::path& run) { return read_json(run / "summary.json")["final"]["loss"].get<double>(); }

fs::path trained(const fs::path& recipe, const fs::path& out, const std::string& extra) {
  const auto result = run_peft("run " + quoted(recipe) + " --out " + quoted(out) + " " + extra);
  CATCH_INFO(result.err);
  CATCH_REQUIRE(result.exit_code == 0);
  return out;
}

}  // namespace

CATCH_TEST_CASE("a LoRA run on the GPU ends where the same run on the CPU does", "[.][cuda]") {
  CATCH_REQUIRE(torch::cuda::is_available());
  TempFolder folder;
  const fs::path recipe = llama_recipe(folder);
  const double cpu = final_loss(trained(recipe, folder / "cpu", "--set device=\"cpu\""));
  const double gpu = final_loss(trained(recipe, folder / "gpu", "--set device=\"cuda\""));
  CATCH_CHECK(std::abs(gpu - cpu) < 1e-4 * std::abs(cpu));
  // Each run generates on its own device: the same greedy tokens.
  const std::string generate = " --prompt 'Count on from 3.' --max-new-tokens 6 --json";
  const auto on_gpu = run_peft("generate " + quoted(folder / "gpu") + generate);
  const auto on_cpu = run_peft("generate " + quoted(folder / "cpu") + generate);
  CATCH_REQUIRE(on_gpu.exit_code == 0);
  CATCH_CHECK(nlohmann::json::parse(on_gpu.out)["ids"] == nlohmann::json::parse(on_cpu.out)["ids"]);
}

CATCH_TEST_CASE("pin_memory makes page-locked batches, which reach the GPU unchanged", "[.][cuda]") {
  CATCH_REQUIRE(torch::cuda::is_available());
  TempFolder folder;
  peft::data::Split split;
  split.num_classes = 2;
  for (int i = 0; i < 6; ++i) {
    const fs::path file = folder / ("image " + std::to_string(i) + ".png");
    peft::data::write_png(file, (at::arange(36, at::kInt) + 10 * i).to(at::kByte).view({1, 6, 6}));
    split.samples.push_back({file, i % 2, "test"});
  }
  const auto dataset = peft::test::image_dataset(split, peft::data::ImageOptions());
  for (const bool pin : {true, false}) {
    peft::data::LoaderOptions options;
    options.batch_size = 3;
    options.pin_memory = pin;
    peft::data::Loader loader(dataset, options);
    loader.start_epoch(0);
    const auto batch = loader.next();
    CATCH_REQUIRE(batch.has_value());
    const at::Tensor images = batch->at(peft::keys::images);
    CATCH_CHECK(images.is_pinned() == pin);
    const peft::Batch on_gpu = batch->to(at::Device(at::kCUDA, 0));
    CATCH_CHECK(at::equal(on_gpu.at(peft::keys::images).cpu(), images));
  }
}

CATCH_TEST_CASE("a ViT run on the GPU, batches pinned and copied asynchronously, matches the CPU", "[.][cuda]") {
  CATCH_REQUIRE(torch::cuda::is_available());
  TempFolder folder;
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "vit.toml";
  peft::test::write_text(recipe, peft::test::tiny_recipe(folder / "task", "gift", "epochs = 2\n"));
  const double cpu = final_loss(trained(recipe, folder / "cpu", "--set device=\"cpu\""));
  const double gpu = final_loss(trained(recipe, folder / "gpu", "--set device=\"cuda\""));
  const double unpinned =
      final_loss(trained(recipe, folder / "unpinned", "--set device=\"cuda\" --set data.pin_memory=false"));
  CATCH_CHECK(std::abs(gpu - cpu) < 1e-4 * std::abs(cpu));
  // Asynchronous copies change when the batch arrives, not what it holds (cuDNN's kernels may still differ in the
  // last bits from run to run).
  CATCH_CHECK(std::abs(gpu - unpinned) < 1e-5 * std::abs(unpinned));
}

CATCH_TEST_CASE("bf16 autocast on the GPU trains to within a few per cent of float32", "[.][cuda]") {
  CATCH_REQUIRE(torch::cuda::is_available());
  TempFolder folder;
  const fs::path recipe = llama_recipe(folder);
  const double exact = final_loss(trained(recipe, folder / "fp32", "--set device=\"cuda\""));
  const double mixed =
      final_loss(trained(recipe, folder / "bf16", "--set device=\"cuda\" --set train.mixed_precision=\"bf16\""));
  CATCH_CHECK(mixed != exact);
  CATCH_CHECK(std::abs(mixed - exact) < 0.05 * exact);
}

CATCH_TEST_CASE("--nproc over the GPUs with NCCL trains as one process does", "[.][cuda][nccl]") {
  CATCH_REQUIRE(torch::cuda::is_available());
  CATCH_REQUIRE(peft::nccl_built());
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  if (gpus < 2) {
    CATCH_WARN("one GPU: NCCL needs a GPU per process, nothing to check");
    return;
  }
  TempFolder folder;
  const fs::path recipe = llama_recipe(folder);
  const double one = final_loss(trained(recipe, folder / "one", "--set device=\"cuda\""));
  const fs::path many = trained(recipe, folder / "many",
                                "--set device=\"cuda\" --set train.distributed_backend=\"nccl\" --nproc " +
                                    std::to_string(gpus) + " --oversubscribe");
  CATCH_CHECK(std::abs(final_loss(many) - one) < 1e-4 * std::abs(one));
}
