#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "adapter_file.h"
#include "peft/error.h"
#include "run_files.h"
#include "text_format.h"
#include "train/interrupt.h"
#include "train/lr_schedule.h"
#include "train/metrics_log.h"
#include "train/train_step.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool evaluation_due(const TrainOptions& options, std::int64_t epoch) {
  return epoch == options.epochs || (options.eval_every > 0 && epoch % options.eval_every == 0);
}

// The epoch loop and what it keeps between epochs: timing for the ETA, the session's rate, the best epoch.
class Trainer {
 public:
  Trainer(const TrainerSetup& setup, Optimizer& optimizer, TrainingProgress start)
      : setup_(setup),
        model_(*setup.model),
        task_(*setup.task),
        options_(setup.options),
        optimizer_(optimizer),
        log_(setup.folder),
        steps_per_epoch_(setup.train_loader->batches_per_epoch()),
        eval_batches_(setup.eval_loader->batches_per_epoch()),
        schedule_(setup.options, steps_per_epoch_),
        primary_(find_metric(task_, task_.primary_metric(), "the task")) {
    outcome_.progress = std::move(start);
    if (setup.communicator != nullptr) {
      reducer_.emplace(model_.trainable);
      // A checkpoint mid-epoch holds the sums of every rank so far: one rank carries them on, or they would count
      // once per rank.
      if (setup.communicator->rank() != 0) outcome_.progress.epoch_tally = Tally();
    }
  }

  TrainOutcome run() {
    const InterruptScope interruptible;  // a signal from here on stops at the next step, with a checkpoint
    TrainingProgress& progress = outcome_.progress;
    // The adapter before training, where a cluster-development view starts (a resumed run has it already).
    if (setup_.writes && setup_.keep_epochs && progress.epoch == 0 && progress.step_in_epoch == 0) {
      save_epoch_adapter(setup_.folder, model_, 0);
    }
    for (std::int64_t epoch = progress.epoch; epoch < options_.epochs; ++epoch) {
      run_epoch(epoch);
      if (setup_.stop_after_epochs && progress.epoch >= *setup_.stop_after_epochs && progress.epoch < options_.epochs) {
        outcome_.stopped = true;
        break;
      }
    }
    if (!outcome_.stopped && outcome_.last_eval_epoch == 0) {
      // Resumed after the last epoch's checkpoint but before the run was written up: evaluate what it trained.
      outcome_.last_eval = run_evaluation(progress.epoch);
      outcome_.last_eval_epoch = progress.epoch;
    }
    outcome_.examples_per_s = session_seconds_ > 0 ? session_examples_ / session_seconds_ : 0.0;
    if (reducer_) outcome_.all_reduce_seconds = reducer_->seconds();
    return outcome_;
  }

 private:
  void run_epoch(std::int64_t epoch) {
    TrainingProgress& progress = outcome_.progress;
    const auto epoch_start = Clock::now();
    model_.train(true);
    // A checkpoint written mid-epoch continues that epoch at its next batch, with its running sums.
    std::int64_t step = progress.step_in_epoch;
    Tally tally = progress.epoch_tally;
    double examples = 0.0;
    progress.step_in_epoch = 0;
    progress.epoch_tally = Tally();
    setup_.train_loader->start_epoch(epoch, step);
    const std::int64_t evaluations_left = evaluations_from(epoch + 1);  // for the ETA: this epoch's and later ones
    double lr = schedule_.lr(epoch, progress.global_step);
    std::optional<StepSync> sync;
    if (reducer_) sync.emplace(StepSync{*setup_.communicator, *reducer_});
    while (auto parts = setup_.train_loader->next_parts()) {
      lr = schedule_.lr(epoch, progress.global_step);
      std::vector<Batch> on_device;
      for (const Batch& part : *parts) on_device.push_back(part.to(setup_.device));
      const StepResult result =
          train_step(model_, task_, optimizer_, options_, on_device, setup_.device, lr, sync ? &*sync : nullptr);
      if (!std::isfinite(result.loss)) non_finite(result.loss, epoch, step);
      ++step;
      ++progress.global_step;
      tally.add(result.tally);
      examples += result.examples;
      const double elapsed = seconds_since(epoch_start);
      const double rate = examples / std::max(elapsed, 1e-9);
      show_step(epoch, step, result.loss, lr, rate, elapsed, evaluations_left);
      if (setup_.writes && progress.global_step % options_.log_every == 0) {
        log_.append({{"type", "train"},
                     {"epoch", epoch + 1},
                     {"step", step},
                     {"global_step", progress.global_step},
                     {"loss", result.loss},
                     {"lr", lr},
                     {task_.unit() + "_per_s", rate}});
      }
      if (result.interrupt) stop_here(epoch, step, tally, elapsed);
    }
    finish_epoch(epoch, tally, examples, lr, seconds_since(epoch_start));
  }

  void finish_epoch(std::int64_t epoch, const Tally& mine, double examples, double lr, double seconds) {
    TrainingProgress& progress = outcome_.progress;
    const Tally tally = summed(mine);
    session_examples_ += examples;
    session_seconds_ += seconds;
    progress.train_seconds += seconds;
    progress.epoch = epoch + 1;
    progress.last_train_loss = tally.mean("loss");
    const MetricValues train_values = task_.values(tally);
    nlohmann::json record{{"type", "epoch"},
                          {"epoch", progress.epoch},
                          {"lr", lr},
                          {"seconds", seconds},
                          {task_.unit() + "_per_s", examples / std::max(seconds, 1e-9)}};
    put_metrics(record, train_values, "train_");
    record["train_loss"] = progress.last_train_loss;  // the objective stepped on, whatever the task derives
    if (setup_.writes) log_.append(record);
    std::string line = "epoch " + std::to_string(progress.epoch) + "/" + std::to_string(options_.epochs) + "  train " +
                       metrics_text(task_.metrics(), train_values, "loss") + "  lr " + scientific(lr, 2);
    if (evaluation_due(options_, progress.epoch)) {
      const Evaluation evaluation = run_evaluation(progress.epoch);
      outcome_.last_eval = evaluation;
      outcome_.last_eval_epoch = progress.epoch;
      const double value = evaluation.value(primary_.name);
      if (!progress.best_value || primary_.better(value, *progress.best_value)) {
        progress.best_value = value;
        progress.best_epoch = progress.epoch;
      }
      nlohmann::json eval_record{{"type", "eval"},
                                 {"epoch", progress.epoch},
                                 {"split", setup_.eval_split},
                                 {task_.unit(), evaluation.examples}};
      put_metrics(eval_record, evaluation.values);
      if (setup_.writes) log_.append(eval_record);
      line += "  | " + setup_.eval_split + " " + metrics_text(task_.metrics(), evaluation.values);
    }
    if (setup_.progress != nullptr) setup_.progress->message(line);
    // Before the checkpoint: a run killed between the two writes this epoch's adapter again, equal, on resume.
    if (!setup_.writes) return;
    if (setup_.keep_epochs) save_epoch_adapter(setup_.folder, model_, progress.epoch);
    if (setup_.write_checkpoints) save_checkpoint(setup_.folder / kCheckpointFile, model_, optimizer_, progress);
  }

  // Every rank's sums of `tally` in a data-parallel run (a collective), else `tally`.
  Tally summed(const Tally& tally) const {
    return setup_.communicator == nullptr ? tally : setup_.communicator->sum(tally, "summing the epoch's metrics");
  }

  Evaluation run_evaluation(std::int64_t epoch) {
    const auto eval_start = Clock::now();
    const Evaluation evaluation = evaluate(
        model_, task_, *setup_.eval_loader, setup_.device, options_.mixed_precision,
        [&](std::int64_t done, std::int64_t batches) {
          if (setup_.progress == nullptr) return;
          const double per_batch = seconds_since(eval_start) / static_cast<double>(done);
          setup_.progress->status("epoch " + std::to_string(epoch) + "/" + std::to_string(options_.epochs) +
                                      "  evaluating " + setup_.eval_split + "  batch " + std::to_string(done) + "/" +
                                      std::to_string(batches) + "  ETA " +
                                      format_duration(per_batch * static_cast<double>(batches - done)),
                                  done == 1);
        },
        setup_.communicator);
    eval_batch_seconds_ = seconds_since(eval_start) / static_cast<double>(std::max<std::int64_t>(eval_batches_, 1));
    return evaluation;
  }

  std::int64_t evaluations_from(std::int64_t first_epoch) const {
    std::int64_t count = 0;
    for (std::int64_t e = first_epoch; e <= options_.epochs; ++e) count += evaluation_due(options_, e) ? 1 : 0;
    return count;
  }

  void show_step(std::int64_t epoch, std::int64_t step, double loss, double lr, double rate, double elapsed,
                 std::int64_t evaluations_left) const {
    if (setup_.progress == nullptr) return;
    const double remaining_steps =
        static_cast<double>((options_.epochs - epoch - 1) * steps_per_epoch_ + (steps_per_epoch_ - step));
    const double step_seconds = elapsed / static_cast<double>(step);
    // Until the first evaluation is timed, an evaluation batch is guessed at a third of a training step.
    const double eval_seconds = static_cast<double>(evaluations_left * eval_batches_) *
                                (eval_batch_seconds_ >= 0 ? eval_batch_seconds_ : step_seconds / 3.0);
    setup_.progress->step({epoch + 1, options_.epochs, step, steps_per_epoch_, loss, lr, rate,
                           remaining_steps * step_seconds + eval_seconds, task_.unit()});
  }

  // A signal asked to stop: a checkpoint at this step (its epoch's running sums included), then Interrupted.
  [[noreturn]] void stop_here(std::int64_t epoch, std::int64_t step, const Tally& tally, double elapsed) {
    TrainingProgress here = outcome_.progress;
    here.train_seconds += elapsed;
    const Tally all = summed(tally);
    if (!setup_.writes) throw Interrupted("stopped");
    const std::string where = "stopped at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step);
    if (!setup_.write_checkpoints) throw Interrupted(where + " ([output] checkpoint = false, so nothing was saved)");
    here.step_in_epoch = step;
    here.epoch_tally = all;
    save_checkpoint(setup_.folder / kCheckpointFile, model_, optimizer_, here);
    throw Interrupted(where + "/" + std::to_string(steps_per_epoch_) +
                      "; checkpoint written; continue with: peft run --resume " + setup_.folder.string());
  }

  [[noreturn]] void non_finite(double loss, std::int64_t epoch, std::int64_t step) const {
    const TrainingProgress& progress = outcome_.progress;
    throw Error("train", "the loss is " + std::string(std::isnan(loss) ? "nan" : "inf") + " at epoch " +
                             std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) + " (global step " +
                             std::to_string(progress.global_step + 1) + "); training stopped. " +
                             (progress.epoch > 0 && setup_.write_checkpoints
                                  ? "The last good checkpoint (end of epoch " + std::to_string(progress.epoch) +
                                        ") is " + (setup_.folder / kCheckpointFile).string()
                                  : std::string("No epoch had completed, so there is no checkpoint")) +
                             " (hint: lower train.lr or set train.grad_clip)");
  }

  const TrainerSetup& setup_;
  AdaptedModel& model_;
  const Task& task_;
  const TrainOptions& options_;
  Optimizer& optimizer_;
  MetricsLog log_;
  const std::int64_t steps_per_epoch_;
  const std::int64_t eval_batches_;
  const LrSchedule schedule_;
  const MetricSpec primary_;
  TrainOutcome outcome_;
  double session_examples_ = 0.0;
  double session_seconds_ = 0.0;
  double eval_batch_seconds_ = -1.0;  // measured at the first evaluation
  std::optional<GradientReducer> reducer_;
};

}  // namespace

TrainOutcome train(const TrainerSetup& setup, Optimizer& optimizer, TrainingProgress start) {
  return Trainer(setup, optimizer, std::move(start)).run();
}

}  // namespace peft
