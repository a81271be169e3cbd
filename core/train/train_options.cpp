#include "train/train_options.h"

#include <algorithm>
#include <set>

#include "peft/error.h"
#include "peft/strings.h"
#include "recipe.h"

namespace peft {
namespace {

// Far above any fine-tuning schedule (VTAB's is 100 epochs, an LLM's 1 to 10).
constexpr std::int64_t kMaxEpochs = 100000;

// Range and choice checks over resolved options, each failure naming where the key was written.
class Checker {
 public:
  Checker(const RecipeTable& table, const std::vector<OptionSpec>& specs)
      : table_(table), options_(resolve_options(specs, table.options, table.context, table.option_contexts)) {}

  std::int64_t integer(const std::string& key, std::int64_t minimum) const {
    const auto value = options_.get<std::int64_t>(key);
    if (value < minimum) fail(key, std::to_string(value), "an integer >= " + std::to_string(minimum));
    return value;
  }

  std::int64_t integer(const std::string& key, std::int64_t minimum, std::int64_t maximum) const {
    const auto value = integer(key, minimum);
    if (value > maximum) {
      fail(key, std::to_string(value), "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
    }
    return value;
  }

  // A number in [low, high] (or [low, high) when `open_high`).
  double number(const std::string& key, double low, double high, bool open_high = false) const {
    const auto value = options_.get<double>(key);
    if (!(value >= low && value <= high) || (open_high && value == high)) {  // nan fails too
      fail(key, to_string(OptionValue(value)),
           "a number in [" + to_string(OptionValue(low)) + ", " + to_string(OptionValue(high)) +
               (open_high ? ")" : "]"));
    }
    return value;
  }

  // A number in (0, high]: the optimizer computes in float (lr and lr x weight_decay below FLT_MAX), and 1e308 was
  // an internal error.
  double positive(const std::string& key, double high) const {
    const auto value = options_.get<double>(key);
    if (!(value > 0.0)) fail(key, to_string(OptionValue(value)), "a number > 0");
    if (value > high) fail(key, to_string(OptionValue(value)), "a number <= " + to_string(OptionValue(high)));
    return value;
  }

  std::string choice(const std::string& key, const std::vector<std::string>& allowed) const {
    const auto value = options_.get<std::string>(key);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      fail(key, "\"" + value + "\"", "one of " + join(allowed));
    }
    return value;
  }

  const Options& options() const { return options_; }

  [[noreturn]] void fail(const std::string& key, const std::string& value, const std::string& expected) const {
    const auto located = table_.option_contexts.find(key);
    throw Error("recipe", (located == table_.option_contexts.end() ? table_.context : located->second) + ": " + key +
                              " = " + value + ", expected " + expected);
  }

 private:
  const RecipeTable& table_;
  Options options_;
};

}  // namespace

const std::vector<OptionSpec>& train_option_specs() {
  using T = OptionType;
  const TrainOptions d;
  static const std::vector<OptionSpec> specs{
      {"epochs", T::integer, d.epochs, "training epochs (1 to 100000)"},
      {"batch_size", T::integer, d.batch_size,
       "examples per step (>= 1); in a data-parallel run the global batch, shared among the ranks"},
      {"gradient_accumulation_steps", T::integer, d.gradient_accumulation_steps,
       "micro-batches each step's batch (each rank's share) is cut into, one forward and backward each, for one "
       "optimizer step on the whole batch (1 .. batch_size)"},
      {"eval_batch_size", T::integer, d.eval_batch_size,
       "examples per evaluation batch (global in a data-parallel run); 0 = the training micro-batch, batch_size / "
       "gradient_accumulation_steps rounded up"},
      {"optimizer", T::string, d.optimizer, "adamw | sgd (with momentum)"},
      {"lr", T::number, d.lr, "peak learning rate, in (0, 1e30]"},
      {"weight_decay", T::number, d.weight_decay,
       "decoupled (adamw) or L2 (sgd) decay, in [0, 1e8]; never on biases or 1-D tensors"},
      {"momentum", T::number, d.momentum, "sgd momentum in [0, 1)"},
      {"betas", T::number_list, std::vector<double>{d.beta1, d.beta2}, "adamw betas, each in [0, 1)"},
      {"eps", T::number, d.eps, "adamw epsilon, in (0, 1]"},
      {"schedule", T::string, d.schedule, "cosine | constant (both after the linear warm-up)"},
      {"schedule_step", T::string, d.schedule_step, "epoch | step: how often the learning rate changes"},
      {"warmup_epochs", T::integer, d.warmup_epochs, "epochs of linear warm-up from warmup_lr to lr (<= epochs)"},
      {"warmup_lr", T::number, d.warmup_lr, "learning rate at the start of the warm-up (>= 0)"},
      {"min_lr", T::number, d.min_lr, "floor of the cosine schedule (>= 0)"},
      {"label_smoothing", T::number, d.label_smoothing, "label smoothing in [0, 1)"},
      {"grad_clip", T::number, d.grad_clip, "clip gradients to this global norm; 0 = off"},
      {"eval_every", T::integer, d.eval_every, "evaluate every N epochs and after the last; 0 = only after the last"},
      {"log_every", T::integer, d.log_every, "a metrics.jsonl record every N steps (>= 1)"},
      {"distributed_backend", T::string, d.distributed_backend,
       "auto | gloo | nccl: the process group of a data-parallel run (auto: nccl when each process has a GPU of its "
       "own, else gloo)"},
      {"distributed_timeout", T::integer, d.distributed_timeout,
       "seconds a rank waits for the others before a data-parallel run ends with an error (>= 1)"},
      {"mixed_precision", T::string, std::string("no"),
       "no | bf16: the forward pass and loss under bf16 autocast (weights, gradients, optimizer stay float32); "
       "fast on GPUs, and on CPUs with AVX512-BF16 or AMX only"},
  };
  return specs;
}

const std::vector<OptionSpec>& output_option_specs() {
  using T = OptionType;
  static const std::vector<OptionSpec> specs{
      {"dir", T::string, std::nullopt, "the run folder, relative to the working directory (default: runs/<name>)"},
      {"checkpoint", T::boolean, true, "write a resumable checkpoint after every epoch"},
      {"keep_epochs", T::boolean, false,
       "keep the adapter after every epoch (and epoch 0, before training) in epochs/, for peft explain --epochs"},
  };
  return specs;
}

MixedPrecision mixed_precision_from(const std::string& name) {
  if (name == "no") return MixedPrecision::no;
  if (name == "bf16") return MixedPrecision::bf16;
  throw Error("train", "mixed_precision = \"" + name + "\": expected \"no\" or \"bf16\"");
}

TrainOptions read_train_options(const RecipeTable& table) {
  const Checker check(table, train_option_specs());
  TrainOptions train;
  // A run must be able to end: 10^9 epochs was accepted and ran for ever.
  train.epochs = check.integer("epochs", 1, kMaxEpochs);
  train.batch_size = check.integer("batch_size", 1);
  train.gradient_accumulation_steps = check.integer("gradient_accumulation_steps", 1);
  if (train.gradient_accumulation_steps > train.batch_size) {
    check.fail("gradient_accumulation_steps", std::to_string(train.gradient_accumulation_steps),
               "at most batch_size (" + std::to_string(train.batch_size) + ")");
  }
  train.eval_batch_size = check.integer("eval_batch_size", 0);
  train.optimizer = check.choice("optimizer", {"adamw", "sgd"});
  train.lr = check.positive("lr", 1e30);
  train.weight_decay = check.number("weight_decay", 0.0, 1e8);
  train.momentum = check.number("momentum", 0.0, 1.0, true);
  const auto betas = check.options().get<std::vector<double>>("betas");
  const auto beta = [](double value) { return value >= 0 && value < 1; };  // nan is not
  if (betas.size() != 2 || !beta(betas[0]) || !beta(betas[1])) {
    check.fail("betas", to_string(OptionValue(betas)), "two numbers in [0, 1)");
  }
  train.beta1 = betas[0];
  train.beta2 = betas[1];
  train.eps = check.positive("eps", 1.0);
  train.schedule = check.choice("schedule", {"cosine", "constant"});
  train.schedule_step = check.choice("schedule_step", {"epoch", "step"});
  train.warmup_epochs = check.integer("warmup_epochs", 0);
  if (train.warmup_epochs > train.epochs) {
    check.fail("warmup_epochs", std::to_string(train.warmup_epochs),
               "at most epochs (" + std::to_string(train.epochs) + ")");
  }
  train.warmup_lr = check.number("warmup_lr", 0.0, 1e9);
  train.min_lr = check.number("min_lr", 0.0, 1e9);
  train.label_smoothing = check.number("label_smoothing", 0.0, 1.0, true);
  train.grad_clip = check.number("grad_clip", 0.0, 1e30);
  train.eval_every = check.integer("eval_every", 0);
  train.log_every = check.integer("log_every", 1);
  train.distributed_backend = check.choice("distributed_backend", {"auto", "gloo", "nccl"});
  train.distributed_timeout = check.integer("distributed_timeout", 1);
  train.mixed_precision = mixed_precision_from(check.choice("mixed_precision", {"no", "bf16"}));
  return train;
}

OutputOptions read_output_options(const RecipeTable& table) {
  const Checker check(table, output_option_specs());
  OutputOptions output;
  output.dir = check.options().get_or<std::string>("dir", "");
  if (check.options().has("dir") && output.dir.empty()) check.fail("dir", "\"\"", "a folder path");
  output.checkpoint = check.options().get<bool>("checkpoint");
  output.keep_epochs = check.options().get<bool>("keep_epochs");
  return output;
}

}  // namespace peft
