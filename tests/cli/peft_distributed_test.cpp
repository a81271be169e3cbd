// Data-parallel training (core/distributed): `peft run --nproc 2` and two processes started with torchrun's
// environment train what one process trains with the same global batch, up to float summation order, and so does a
// batch cut into micro-batches (gradient accumulation); a run resumes with another number of processes; a rank that
// dies ends the run in one line naming it. Two processes of one thread each, on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "distributed/process_groups.h"
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
using peft::test::write_text;

namespace {

// With SGD the two ways agree to float rounding (measured: 3e-8 on adapters of size 0.07); AdamW divides by the
// root of tiny second moments and amplifies it, so these tests step with SGD.
constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-6;

// 17 lines of text in `folder`/text (train: a last global batch of 1, so rank 0's share of it is empty) and a LoRA
// recipe on the tiny Hugging Face llama folder.
fs::path write_llama_recipe(const TempFolder& folder) {
  const fs::path model = peft::test::llama_model_folder(folder);
  std::string train;
  std::string test;
  const std::vector<std::string> words{"the", "model", "reads", "a", "line", "of", "text", "and", "learns", "it"};
  for (int i = 0; i < 17; ++i) {
    std::string line;
    for (int w = 0; w < 4 + i % 7; ++w) line += (w ? " " : "") + words[(i * 3 + w * 7) % words.size()];
    train += "{\"text\": \"" + line + "\"}\n";
    if (i < 9) test += "{\"text\": \"" + line + " again\"}\n";
  }
  write_text(folder / "text/train.jsonl", train);
  write_text(folder / "text/test.jsonl", test);
  const fs::path recipe = folder / "llama.toml";
  write_text(recipe, R"(schema_version = 1
seed = 2
task = "causal_lm"
threads = 1
[backbone]
plugin = "llama"
checkpoint = ")" + model.string() +
                         R"("
[method]
plugin = "lora"
targets = ["q_proj", "v_proj"]
[data]
format = "jsonl"
root = "text"
train_split = "train"
eval_split = "test"
max_length = 32
workers = 0
[train]
epochs = 2
batch_size = 8
optimizer = "sgd"
lr = 0.5
log_every = 1
)");
  return recipe;
}

// LoRA on the tiny ViT and the tiny image task, a new classifier head, SGD; global batches of 10 (the last of 8).
fs::path write_vit_recipe(const TempFolder& folder) {
  peft::test::write_tiny_task(folder / "task");
  const fs::path recipe = folder / "vit.toml";
  write_text(recipe, peft::test::tiny_recipe(folder / "task", "lora",
                                             "epochs = 2\noptimizer = \"sgd\"\nlr = 0.05\neval_every = 1\n",
                                             "targets = [\"attn.qkv\"]\n"));
  return recipe;
}

std::string run_command(const fs::path& recipe, const fs::path& out, const std::string& extra = "") {
  return "run " + quoted(recipe) + " --out " + quoted(out) + " " + extra;
}

std::set<std::string> files_in(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.insert(entry.path().filename().string());
  return names;
}

// The environment torchrun gives rank `rank` of 2, on a port of its own.
std::string torchrun_environment(int rank, int port) {
  return "RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank) +
         " WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
         " OMP_NUM_THREADS=1 ";
}

// `peft run RECIPE --out RUN --nproc 2 EXTRA` in the background of a shell in `folder`; once its first epoch is on
// record, `action` runs (with $launcher the launcher's PID); then the launcher is waited for and its exit code
// printed as "exit N".
peft::test::CommandResult launch_then(const TempFolder& folder, const fs::path& recipe, const fs::path& run,
                                      const std::string& extra, const std::string& action) {
  return peft::test::run_command("(cd " + quoted(folder.path()) + "; PEFT_PLUGIN_PATH= " + quoted(PEFT_EXECUTABLE) +
                                 " " + run_command(recipe, run, "--nproc 2 " + extra) +
                                 " & launcher=$!; tries=0; until grep -q '\"type\":\"epoch\"' " +
                                 quoted(run / "metrics.jsonl") +
                                 " 2>/dev/null || [ $tries -gt 600 ]; do sleep 0.05; tries=$((tries + 1)); done; " +
                                 action + "; wait $launcher; echo \"exit $?\")");
}

// A loopback port nothing listens on now (the system's choice for port 0), for a rank 0 to host its store on.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  CATCH_REQUIRE(bound);
  return ntohs(address.sin_port);
}

// Shell: sends SIG`name` to the launcher's worker whose environment says RANK=1 (found through /proc).
std::string signal_rank_one(const std::string& name) {
  return "for stat in /proc/[0-9]*/stat; do set -- $(cat $stat 2>/dev/null); if [ \"$4\" = \"$launcher\" ] && "
         "tr '\\0' '\\n' < /proc/$1/environ | grep -qx RANK=1; then kill -" +
         name + " $1; fi; done";
}

}  // namespace

CATCH_TEST_CASE("two processes train what one process trains with the same global batch") {
  TempFolder folder;
  for (const fs::path& recipe : {write_llama_recipe(folder), write_vit_recipe(folder)}) {
    CATCH_INFO(recipe.filename().string());
    const fs::path one = folder / (recipe.stem().string() + "-one");
    const fs::path two = folder / (recipe.stem().string() + "-two");
    const std::string batch = recipe.stem() == "vit" ? "--set train.batch_size=10" : "";
    const auto single = run_peft(run_command(recipe, one, batch));
    CATCH_INFO(single.err);
    CATCH_REQUIRE(single.exit_code == 0);
    // The ranks' logs go to a scratch folder under TMPDIR, removed afterwards; what else is there stays.
    const fs::path tmp = folder / (recipe.stem().string() + "-tmp");
    write_text(tmp / "notes.txt", "the user's");
    const auto parallel =
        peft::test::run_command("TMPDIR=" + quoted(tmp) + " PEFT_PLUGIN_PATH= " + quoted(PEFT_EXECUTABLE) + " " +
                                run_command(recipe, two, batch + " --nproc 2"));
    CATCH_INFO(parallel.err);
    CATCH_REQUIRE(parallel.exit_code == 0);
    CATCH_CHECK(files_in(tmp) == std::set<std::string>{"notes.txt"});
    CATCH_CHECK_THAT(parallel.err, Catch::Contains("data parallel: 2 processes (2 on this machine), 1 threads each"));
    peft::test::check_close_runs(one, two, kRtol, kAtol);
    // Rank 0 alone wrote the folder: the same files as one process's.
    CATCH_CHECK(files_in(one) == files_in(two));
    const auto summary = read_json(two / "summary.json");
    CATCH_CHECK(summary["world_size"] == 2);
    CATCH_CHECK(summary["threads"] == 1);
    CATCH_CHECK(read_json(one / "summary.json")["world_size"] == 1);
  }
}

CATCH_TEST_CASE("a batch cut into micro-batches trains what the whole batch trains, in one process or two") {
  TempFolder folder;
  for (const fs::path& recipe : {write_llama_recipe(folder), write_vit_recipe(folder)}) {
    CATCH_INFO(recipe.filename().string());
    // Batches of 8 lines of 4 to 10 words (each micro-batch padded to its own longest, the loss a mean over target
    // tokens) and of 10 images; 3 parts of unequal sizes, and 2 ranks of 2 parts each.
    const std::string batch = recipe.stem() == "vit" ? "--set train.batch_size=10 " : "";
    const fs::path whole = folder / (recipe.stem().string() + "-whole");
    CATCH_REQUIRE(run_peft(run_command(recipe, whole, batch)).exit_code == 0);
    const fs::path three = folder / (recipe.stem().string() + "-three");
    const auto cut = run_peft(run_command(recipe, three, batch + "--set train.gradient_accumulation_steps=3"));
    CATCH_INFO(cut.err);
    CATCH_REQUIRE(cut.exit_code == 0);
    CATCH_CHECK_THAT(cut.err, Catch::Contains("in 3 micro-batches, one optimizer step"));
    peft::test::check_close_runs(whole, three, kRtol, kAtol);
    const fs::path two_by_two = folder / (recipe.stem().string() + "-two-by-two");
    const auto parallel =
        run_peft(run_command(recipe, two_by_two, batch + "--set train.gradient_accumulation_steps=2 --nproc 2"));
    CATCH_INFO(parallel.err);
    CATCH_REQUIRE(parallel.exit_code == 0);
    peft::test::check_close_runs(whole, two_by_two, kRtol, kAtol);
  }
}

CATCH_TEST_CASE("each process runs the recipe's threads shared among the processes, unless OMP_NUM_THREADS says") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const std::string peft = "PEFT_PLUGIN_PATH= " + quoted(PEFT_EXECUTABLE) + " ";
  const fs::path shared = folder / "shared";
  const auto split = peft::test::run_command("env -u OMP_NUM_THREADS " + peft +
                                             run_command(recipe, shared, "--nproc 2 --set threads=4"));
  CATCH_INFO(split.err);
  CATCH_REQUIRE(split.exit_code == 0);
  CATCH_CHECK(read_json(shared / "summary.json")["threads"] == 2);
  const fs::path told = folder / "told";
  const auto omp =
      peft::test::run_command("OMP_NUM_THREADS=3 " + peft + run_command(recipe, told, "--nproc 2 --set threads=4"));
  CATCH_INFO(omp.err);
  CATCH_REQUIRE(omp.exit_code == 0);
  CATCH_CHECK(read_json(told / "summary.json")["threads"] == 3);
}

CATCH_TEST_CASE("a data-parallel run resumes with another number of processes, as if it had not stopped") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const fs::path whole = folder / "whole";
  CATCH_REQUIRE(run_peft(run_command(recipe, whole)).exit_code == 0);
  // Two processes for the first epoch, one for the second.
  const fs::path two_then_one = folder / "two-then-one";
  const auto first = run_peft(run_command(recipe, two_then_one, "--nproc 2 --stop-after 1"));
  CATCH_INFO(first.err);
  CATCH_REQUIRE(first.exit_code == 0);
  CATCH_CHECK_THAT(first.out, Catch::Contains("stopped after epoch 1"));
  const auto rest = run_peft("run --resume " + quoted(two_then_one));
  CATCH_INFO(rest.err);
  CATCH_REQUIRE(rest.exit_code == 0);
  peft::test::check_close_runs(whole, two_then_one, kRtol, kAtol);
  CATCH_CHECK(read_json(two_then_one / "summary.json")["world_size"] == 1);
  // And one process first, two after.
  const fs::path one_then_two = folder / "one-then-two";
  CATCH_REQUIRE(run_peft(run_command(recipe, one_then_two, "--stop-after 1")).exit_code == 0);
  const auto parallel = run_peft("run --resume " + quoted(one_then_two) + " --nproc 2");
  CATCH_INFO(parallel.err);
  CATCH_REQUIRE(parallel.exit_code == 0);
  peft::test::check_close_runs(whole, one_then_two, kRtol, kAtol);
}

CATCH_TEST_CASE("ranks started by hand with torchrun's or srun's environment train together") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const fs::path whole = folder / "whole";
  CATCH_REQUIRE(run_peft(run_command(recipe, whole)).exit_code == 0);
  // As `torchrun --no_python --nproc_per_node 2 peft run ...` starts them, without its agent: rank 0 hosts the store.
  const int port = free_port();
  const fs::path by_hand = folder / "by-hand";
  const std::string peft = quoted(PEFT_EXECUTABLE);
  const std::string command = "cd " + quoted(folder.path()) + "; PEFT_PLUGIN_PATH= " + torchrun_environment(1, port) +
                              peft + " " + run_command(recipe, by_hand) +
                              " > rank1.out 2>&1 & PEFT_PLUGIN_PATH= " + torchrun_environment(0, port) + peft + " " +
                              run_command(recipe, by_hand) + "; zero=$?; wait $!; one=$?; echo \"exit $zero $one\"";
  const auto ranks = peft::test::run_command("(" + command + ")");
  CATCH_INFO(ranks.err);
  CATCH_REQUIRE_THAT(ranks.out, Catch::Contains("exit 0 0"));
  CATCH_CHECK_THAT(ranks.out, Catch::Contains("done: "));  // rank 0 speaks for both
  std::ifstream rank1(folder / "rank1.out");
  CATCH_CHECK(std::string(std::istreambuf_iterator<char>(rank1), {}).empty());
  peft::test::check_close_runs(whole, by_hand, kRtol, kAtol);
  CATCH_CHECK(read_json(by_hand / "summary.json")["world_size"] == 2);

  // As srun starts them (SLURM_* and the exported MASTER_ADDR/MASTER_PORT of `peft sweep --emit slurm --nproc`).
  const fs::path by_srun = folder / "by-srun";
  const int srun_port = free_port();
  const auto slurm = [&](int rank) {
    return "SLURM_PROCID=" + std::to_string(rank) + " SLURM_LOCALID=" + std::to_string(rank) +
           " SLURM_NTASKS=2 SLURM_NTASKS_PER_NODE='2(x1)' MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
           std::to_string(srun_port) + " OMP_NUM_THREADS=1 ";
  };
  const auto srun = peft::test::run_command(
      "(cd " + quoted(folder.path()) + "; PEFT_PLUGIN_PATH= " + slurm(1) + peft + " " + run_command(recipe, by_srun) +
      " > srun1.out 2>&1 & PEFT_PLUGIN_PATH= " + slurm(0) + peft + " " + run_command(recipe, by_srun) +
      "; zero=$?; wait $!; one=$?; echo \"exit $zero $one\")");
  CATCH_INFO(srun.err);
  CATCH_REQUIRE_THAT(srun.out, Catch::Contains("exit 0 0"));
  peft::test::check_close_runs(whole, by_srun, kRtol, kAtol);
  CATCH_CHECK(read_json(by_srun / "summary.json")["world_size"] == 2);

  // What the environment gets wrong is one line naming the variable.
  const auto with_environment = [&](const std::string& environment, const std::string& arguments) {
    return peft::test::run_command("PEFT_PLUGIN_PATH= " + environment + " " + peft + " " + arguments);
  };
  const std::string again = run_command(recipe, folder / "again");
  peft::test::check_user_error(with_environment("WORLD_SIZE=two", again),
                               "[distributed] WORLD_SIZE=two: expected an integer from 1 to");
  peft::test::check_user_error(with_environment("RANK=2 WORLD_SIZE=2", again),
                               "[distributed] RANK=2: expected an integer from 0 to 1");
  peft::test::check_user_error(with_environment("RANK=0 WORLD_SIZE=2", again),
                               "[distributed] MASTER_ADDR is not set (a distributed run needs it)");
  peft::test::check_user_error(with_environment(torchrun_environment(0, port), again + " --nproc 2"),
                               "--nproc 2 inside a distributed launch (RANK 0 of WORLD_SIZE 2 are set)");
  peft::test::check_user_error(run_peft(again + " --nproc -1"), "--nproc: Value -1 not in range 1 to 4096");
  peft::test::check_user_error(run_peft(again + " --nproc 0"), "--nproc: Value 0 not in range 1 to 4096");
  // More processes than cores is refused before anything is forked (it stalled the machine), unless asked for.
  const auto cores = std::to_string(std::max(1u, std::thread::hardware_concurrency()));
  peft::test::check_user_error(run_peft(again + " --nproc 1000"),
                               "[run] --nproc 1000 would start more processes than this machine's " + cores +
                                   " cores (hint: --oversubscribe to start them anyway)");
  // NCCL on a CPU device (or in a peft without NCCL) is refused, also in one process, which does not talk to others
  // but must not train on something other than the backend it was asked for.
  const std::string nccl_refused = peft::nccl_built()
                                       ? "[train] distributed_backend = \"nccl\": NCCL reduces CUDA tensors, and this "
                                         "run's device is cpu"
                                       : "[train] distributed_backend = \"nccl\": this peft was built without NCCL";
  peft::test::check_user_error(run_peft(again + " --nproc 2 --set train.distributed_backend=nccl --set device=cpu"),
                               nccl_refused);
  peft::test::check_user_error(run_peft(again + " --set train.distributed_backend=nccl --set device=cpu"),
                               nccl_refused);
  CATCH_CHECK(!fs::exists(folder / "again"));
}

CATCH_TEST_CASE("a rank that dies ends the run in one line naming it, and the checkpoint on disk resumes") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const fs::path run = folder / "run";
  // Long enough to be killed in the middle: rank 1 gets SIGKILL once the first epoch is on record.
  const auto killed = launch_then(folder, recipe, run, "--set train.epochs=400", signal_rank_one("KILL"));

  CATCH_INFO(killed.err);
  CATCH_REQUIRE_THAT(killed.out, Catch::Contains("exit 1"));
  // One line, naming the rank and how it ended, and how to go on.
  std::vector<std::string> errors;
  std::istringstream lines(killed.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("error") != std::string::npos) errors.push_back(line);
  }
  CATCH_REQUIRE(errors.size() == 1);
  CATCH_CHECK_THAT(errors[0], Catch::Contains("peft: error: [distributed] rank 1 of 2 was killed by signal 9") &&
                                  Catch::Contains("peft run --resume " + run.string()));
  // The checkpoint is whole: one more epoch from it, then stop.
  const auto epochs = peft::test::metric_records(run);
  std::int64_t last = 0;
  for (const auto& record : epochs) {
    if (record["type"] == "epoch") last = record["epoch"].get<std::int64_t>();
  }
  const auto resumed = run_peft("run --resume " + quoted(run) + " --stop-after " + std::to_string(last + 1));
  CATCH_INFO(resumed.err);
  CATCH_CHECK(resumed.exit_code == 0);
  CATCH_CHECK_THAT(resumed.out, Catch::Contains("stopped after epoch " + std::to_string(last + 1)));
}

CATCH_TEST_CASE("a rank that hangs is named once the others time out waiting for it") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const fs::path run = folder / "run";
  // Rank 1 stopped (SIGSTOP) once the first epoch is on record; rank 0 waits [train] distributed_timeout = 2 s.
  const auto hung = launch_then(folder, recipe, run, "--set train.epochs=400 --set train.distributed_timeout=2",
                                signal_rank_one("STOP"));
  CATCH_INFO(hung.err);
  CATCH_REQUIRE_THAT(hung.out, Catch::Contains("exit 1"));
  CATCH_CHECK(peft::test::has_line(hung.err, "peft: error: \\[distributed\\] rank 1 of 2 stopped responding: .*"));
  CATCH_CHECK(fs::exists(run / "checkpoint.safetensors"));
}

CATCH_TEST_CASE("Ctrl-C stops every rank after the same step with a checkpoint, and the run resumes from it") {
  TempFolder folder;
  const fs::path recipe = write_llama_recipe(folder);
  const fs::path whole = folder / "whole";
  CATCH_REQUIRE(run_peft(run_command(recipe, whole, "--set train.epochs=60")).exit_code == 0);
  const fs::path run = folder / "run";
  // SIGINT to the launcher once the first epoch is on record; it passes it on to each worker once.
  const auto stopped = launch_then(folder, recipe, run, "--set train.epochs=60", "kill -INT $launcher");

  CATCH_INFO(stopped.err);
  CATCH_REQUIRE_THAT(stopped.out, Catch::Contains("exit 130"));
  CATCH_CHECK_THAT(stopped.err, Catch::Contains("checkpoint written; continue with: peft run --resume"));
  CATCH_REQUIRE(!fs::exists(run / "summary.json"));
  // Two processes finish it (each carrying on the stopped epoch's sums once): the same run as one never stopped.
  const auto rest = run_peft("run --resume " + quoted(run) + " --nproc 2");
  CATCH_INFO(rest.err);
  CATCH_REQUIRE(rest.exit_code == 0);
  peft::test::check_close_runs(whole, run, kRtol, kAtol);
}
