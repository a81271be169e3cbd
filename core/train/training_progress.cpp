#include "train/training_progress.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "peft/error.h"

namespace peft {
namespace {

// Round-trips exactly (std::to_string keeps 6 decimals).
std::string exact(double value) {
  std::ostringstream text;
  text.precision(17);
  text << value;
  return text.str();
}

std::string tally_text(const Tally& tally) {
  nlohmann::json sums = nlohmann::json::object();
  for (const auto& [name, entry] : tally.sums())
    sums[name] = nlohmann::json::array({exact(entry.sum), exact(entry.weight)});
  return sums.dump();
}

Tally tally_from_text(const std::string& text) {
  Tally tally;
  const nlohmann::json sums = nlohmann::json::parse(text);
  for (auto entry = sums.begin(); entry != sums.end(); ++entry) {
    tally.add(entry.key(), std::stod(entry->at(0).get<std::string>()), std::stod(entry->at(1).get<std::string>()));
  }
  return tally;
}

}  // namespace

std::map<std::string, std::string> progress_fields(const TrainingProgress& progress) {
  std::map<std::string, std::string> fields{{"epoch", std::to_string(progress.epoch)},
                                            {"global_step", std::to_string(progress.global_step)},
                                            {"best_epoch", std::to_string(progress.best_epoch)},
                                            {"train_seconds", exact(progress.train_seconds)},
                                            {"last_train_loss", exact(progress.last_train_loss)},
                                            {"step_in_epoch", std::to_string(progress.step_in_epoch)},
                                            {"epoch_tally", tally_text(progress.epoch_tally)}};
  if (progress.best_value) fields["best_value"] = exact(*progress.best_value);
  return fields;
}

TrainingProgress progress_from_fields(const std::map<std::string, std::string>& fields, const std::string& source) {
  const auto field = [&](const std::string& key) -> const std::string& {
    const auto found = fields.find(key);
    if (found == fields.end()) throw Error("checkpoint", source + ": metadata '" + key + "' is missing");
    return found->second;
  };
  const auto has = [&](const std::string& key) { return fields.count(key) != 0; };
  TrainingProgress progress;
  try {
    progress.epoch = std::stoll(field("epoch"));
    progress.global_step = std::stoll(field("global_step"));
    progress.best_epoch = std::stoll(field("best_epoch"));
    progress.train_seconds = std::stod(field("train_seconds"));
    progress.last_train_loss = std::stod(field("last_train_loss"));
    if (has("best_value")) {
      progress.best_value = std::stod(field("best_value"));
    } else if (has("best_top1") && std::stod(field("best_top1")) >= 0.0) {  // before tasks: top-1, -1 for none
      progress.best_value = std::stod(field("best_top1"));
    }
    if (has("step_in_epoch")) progress.step_in_epoch = std::stoll(field("step_in_epoch"));
    if (has("epoch_tally")) {
      progress.epoch_tally = tally_from_text(field("epoch_tally"));
    } else if (has("epoch_images")) {  // before tasks: image classification's running sums
      const double images = std::stod(field("epoch_images"));
      progress.epoch_tally.add("loss", std::stod(field("epoch_loss_sum")), images);
      progress.epoch_tally.add("top1", std::stod(field("epoch_correct")), images);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {
    throw Error("checkpoint", source + ": unreadable progress metadata");
  }
  return progress;
}

}  // namespace peft
