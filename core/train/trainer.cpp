#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapter_file.h"
#include "peft/error.h"
#include "run_files.h"
#include "text_format.h"
#include "train/interrupt.h"
#include "train/lr_schedule.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void append_record(const fs::path& folder, const nlohmann::json& record) {
  std::ofstream out(folder / kMetricsFile, std::ios::app);
  out << record.dump() << '\n';
  out.flush();
  if (!out) {
    throw Error("output",
                "cannot append to " + (folder / kMetricsFile).string() + ": " + std::strerror(errno) + " (disk full?)");
  }
}

void clip_gradients(const std::vector<TrainableTensor>& tensors, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (const auto& trainable : tensors) {
    if (trainable.tensor.grad().defined()) norms.push_back(trainable.tensor.grad().norm(2).to(at::kFloat));
  }
  if (norms.empty()) return;
  const double total = at::stack(norms).norm(2).item<double>();
  const double factor = max_norm / (total + 1e-6);
  if (factor >= 1.0) return;
  for (const auto& trainable : tensors) {
    if (trainable.tensor.grad().defined()) trainable.tensor.mutable_grad().mul_(factor);
  }
}

bool evaluation_due(const TrainOptions& options, std::int64_t epoch) {
  return epoch == options.epochs || (options.eval_every > 0 && epoch % options.eval_every == 0);
}

}  // namespace

TrainOutcome train(const TrainerSetup& setup, Optimizer& optimizer, TrainingProgress start) {
  AdaptedModel& model = *setup.model;
  const TrainOptions& options = setup.options;
  const std::int64_t steps_per_epoch = setup.train_loader->batches_per_epoch();
  const LrSchedule schedule(options, steps_per_epoch);
  TrainOutcome outcome;
  outcome.progress = start;
  TrainingProgress& progress = outcome.progress;
  std::int64_t session_images = 0;
  double session_seconds = 0.0;
  const std::int64_t eval_batches = setup.eval_loader->batches_per_epoch();
  double eval_batch_seconds = -1.0;  // measured at the first evaluation; until then, a third of a training step
  const auto evaluations_from = [&](std::int64_t first_epoch) {
    std::int64_t count = 0;
    for (std::int64_t e = first_epoch; e <= options.epochs; ++e) count += evaluation_due(options, e) ? 1 : 0;
    return count;
  };
  const auto run_evaluation = [&](std::int64_t epoch) {
    const auto eval_start = Clock::now();
    const Evaluation evaluation =
        evaluate(model, *setup.eval_loader, setup.device, [&](std::int64_t done, std::int64_t batches) {
          if (setup.progress == nullptr) return;
          const double per_batch = seconds_since(eval_start) / static_cast<double>(done);
          setup.progress->status("epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs) +
                                     "  evaluating " + setup.eval_split + "  batch " + std::to_string(done) + "/" +
                                     std::to_string(batches) + "  ETA " +
                                     format_duration(per_batch * static_cast<double>(batches - done)),
                                 done == 1);
        });
    eval_batch_seconds = seconds_since(eval_start) / static_cast<double>(std::max<std::int64_t>(eval_batches, 1));
    return evaluation;
  };
  const InterruptScope interruptible;  // a signal from here on stops at the next step, with a checkpoint
  // The adapter before training, where a cluster-development view starts (a resumed run has it already).
  if (setup.keep_epochs && start.epoch == 0 && start.step_in_epoch == 0) save_epoch_adapter(setup.folder, model, 0);

  for (std::int64_t epoch = start.epoch; epoch < options.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model.train(true);
    // A checkpoint written mid-epoch continues that epoch at its next batch, with its running sums.
    std::int64_t step = progress.step_in_epoch;
    double loss_sum = progress.epoch_loss_sum;
    std::int64_t correct = progress.epoch_correct;
    std::int64_t images = progress.epoch_images;
    const std::int64_t resumed_images = images;
    progress.step_in_epoch = 0;
    progress.epoch_loss_sum = 0.0;
    progress.epoch_correct = progress.epoch_images = 0;
    setup.train_loader->start_epoch(epoch, step);
    const std::int64_t evaluations_left = evaluations_from(epoch + 1);  // for the ETA: this epoch's and later ones
    double lr = schedule.lr(epoch, progress.global_step);
    while (auto batch = setup.train_loader->next()) {
      lr = schedule.lr(epoch, progress.global_step);
      const Batch on_device = batch->to(setup.device);
      const at::Tensor& labels = on_device.at(keys::labels);
      const at::Tensor logits = model.logits(on_device);
      at::Tensor loss = at::cross_entropy_loss(logits, labels, {}, at::Reduction::Mean, -100, options.label_smoothing);
      if (const at::Tensor extra = model.method->extra_loss(); extra.defined()) loss = loss + extra;
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        throw Error("train", "the loss is " + std::string(std::isnan(loss_value) ? "nan" : "inf") + " at epoch " +
                                 std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) + " (global step " +
                                 std::to_string(progress.global_step + 1) + "); training stopped. " +
                                 (progress.epoch > 0 && setup.write_checkpoints
                                      ? "The last good checkpoint (end of epoch " + std::to_string(progress.epoch) +
                                            ") is " + (setup.folder / kCheckpointFile).string()
                                      : std::string("No epoch had completed, so there is no checkpoint")) +
                                 " (hint: lower train.lr or set train.grad_clip)");
      }
      optimizer.zero_grad();
      loss.backward();
      if (options.grad_clip > 0.0) clip_gradients(model.trainable, options.grad_clip);
      optimizer.step(lr);

      ++step;
      ++progress.global_step;
      const std::int64_t batch_images = labels.size(0);
      images += batch_images;
      loss_sum += loss_value * static_cast<double>(batch_images);
      correct += logits.detach().argmax(1).eq(labels).sum().item<std::int64_t>();
      const double elapsed = seconds_since(epoch_start);
      const double rate = static_cast<double>(images - resumed_images) / std::max(elapsed, 1e-9);
      if (setup.progress != nullptr) {
        const double remaining_steps =
            static_cast<double>((options.epochs - epoch - 1) * steps_per_epoch + (steps_per_epoch - step));
        const double step_seconds = elapsed / static_cast<double>(step);
        const double eval_seconds = static_cast<double>(evaluations_left * eval_batches) *
                                    (eval_batch_seconds >= 0 ? eval_batch_seconds : step_seconds / 3.0);
        setup.progress->step({epoch + 1, options.epochs, step, steps_per_epoch, loss_value, lr, rate,
                              remaining_steps * step_seconds + eval_seconds});
      }
      if (progress.global_step % options.log_every == 0) {
        append_record(setup.folder, {{"type", "train"},
                                     {"epoch", epoch + 1},
                                     {"step", step},
                                     {"global_step", progress.global_step},
                                     {"loss", loss_value},
                                     {"lr", lr},
                                     {"images_per_s", rate}});
      }
      if (interrupt_requested()) {
        progress.train_seconds += elapsed;
        const std::string where = "stopped at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step);
        if (!setup.write_checkpoints) {
          throw Interrupted(where + " ([output] checkpoint = false, so nothing was saved)");
        }
        TrainingProgress here = progress;
        here.step_in_epoch = step;
        here.epoch_loss_sum = loss_sum;
        here.epoch_correct = correct;
        here.epoch_images = images;
        save_checkpoint(setup.folder / kCheckpointFile, model, optimizer, here);
        throw Interrupted(where + "/" + std::to_string(steps_per_epoch) +
                          "; checkpoint written; continue with: peft run --resume " + setup.folder.string());
      }
    }
    const double epoch_seconds = seconds_since(epoch_start);
    session_images += images - resumed_images;
    session_seconds += epoch_seconds;
    progress.train_seconds += epoch_seconds;
    progress.epoch = epoch + 1;
    progress.last_train_loss = images > 0 ? loss_sum / static_cast<double>(images) : 0.0;
    const double train_top1 = images > 0 ? static_cast<double>(correct) / static_cast<double>(images) : 0.0;
    append_record(setup.folder,
                  {{"type", "epoch"},
                   {"epoch", progress.epoch},
                   {"train_loss", progress.last_train_loss},
                   {"train_top1", train_top1},
                   {"lr", lr},
                   {"seconds", epoch_seconds},
                   {"images_per_s", static_cast<double>(images - resumed_images) / std::max(epoch_seconds, 1e-9)}});
    std::string line = "epoch " + std::to_string(progress.epoch) + "/" + std::to_string(options.epochs) +
                       "  train loss " + fixed(progress.last_train_loss, 4) + "  top-1 " + fixed(100 * train_top1, 2) +
                       "%  lr " + scientific(lr, 2);

    if (evaluation_due(options, progress.epoch)) {
      const Evaluation evaluation = run_evaluation(progress.epoch);
      outcome.last_eval = evaluation;
      outcome.last_eval_epoch = progress.epoch;
      if (evaluation.top1 > progress.best_top1) {
        progress.best_top1 = evaluation.top1;
        progress.best_epoch = progress.epoch;
      }
      append_record(setup.folder, {{"type", "eval"},
                                   {"epoch", progress.epoch},
                                   {"split", setup.eval_split},
                                   {"top1", evaluation.top1},
                                   {"loss", evaluation.loss},
                                   {"images", evaluation.images}});
      line += "  | " + setup.eval_split + " top-1 " + fixed(100 * evaluation.top1, 2) + "%  loss " +
              fixed(evaluation.loss, 4);
    }
    if (setup.progress != nullptr) setup.progress->message(line);
    // Before the checkpoint: a run killed between the two writes this epoch's adapter again, equal, on resume.
    if (setup.keep_epochs) save_epoch_adapter(setup.folder, model, progress.epoch);
    if (setup.write_checkpoints) save_checkpoint(setup.folder / kCheckpointFile, model, optimizer, progress);
    if (setup.stop_after_epochs && progress.epoch >= *setup.stop_after_epochs && progress.epoch < options.epochs) {
      outcome.stopped = true;
      break;
    }
  }
  if (!outcome.stopped && outcome.last_eval_epoch == 0) {
    // Resumed after the last epoch's checkpoint but before the run was written up: evaluate what it trained.
    outcome.last_eval = run_evaluation(progress.epoch);
    outcome.last_eval_epoch = progress.epoch;
  }
  outcome.images_per_s = session_seconds > 0 ? static_cast<double>(session_images) / session_seconds : 0.0;
  return outcome;
}

}  // namespace peft
