#pragma once
/// \file
/// One split of a task's data as examples; the host's loader shuffles, batches and prefetches them in worker
/// threads.
///
///     class Words final : public peft::Dataset {
///      public:
///       std::int64_t size() const override { return lines_.size(); }
///       std::optional<peft::Batch> example(std::int64_t index, std::int64_t) override {
///         return peft::Batch{{peft::keys::input_ids, encode(lines_[index])}};
///       }
///       peft::Batch collate(std::vector<peft::Batch> examples) const override { return pad_right(examples); }
///     };

#include <cstdint>
#include <optional>
#include <vector>

#include "peft/api.h"
#include "peft/batch.h"
#include "peft/fwd.h"

namespace peft {

class PEFT_API Dataset {
 public:
  Dataset() = default;
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;
  virtual ~Dataset();

  /// Examples in the split.
  virtual std::int64_t size() const = 0;

  /// Example `index` (0 to size() - 1) as training sees it in `epoch` (0-based; evaluation reads epoch 0). The same
  /// (index, epoch) must give the same tensors whatever thread asks and in whatever order: worker threads call this
  /// concurrently, and a resumed run must see the batches the interrupted one would have. Nothing: the example is
  /// left out of its batch (a bad image with `on_bad_image = "skip"`); count it in `skipped()`.
  virtual std::optional<Batch> example(std::int64_t index, std::int64_t epoch) = 0;

  /// One batch from its examples, in order. Default: each name stacked along a new first dimension; names or
  /// shapes that differ between examples are a peft::Error naming them (pad in an override). An empty `examples`
  /// (every one skipped) must give an empty batch with the names its examples would have.
  virtual Batch collate(std::vector<Batch> examples) const;

  /// Examples left out so far.
  virtual std::int64_t skipped() const { return 0; }
};

/// Each name of `examples` stacked along a new first dimension: Dataset::collate's default.
PEFT_API Batch stack_examples(const std::vector<Batch>& examples);

}  // namespace peft
