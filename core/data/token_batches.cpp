#include "data/token_batches.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace peft::data {
namespace {

std::int64_t longest(const std::vector<Batch>& examples) {
  std::int64_t length = 0;
  for (const Batch& example : examples) length = std::max(length, example.at(keys::input_ids).size(0));
  return length;
}

}  // namespace

at::Tensor right_padded(const std::vector<Batch>& examples, const std::string& name, std::int64_t pad) {
  at::Tensor rows = at::full({static_cast<std::int64_t>(examples.size()), longest(examples)}, pad, at::kLong);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const at::Tensor& row = examples[i].at(name);
    rows[static_cast<std::int64_t>(i)].narrow(0, 0, row.size(0)).copy_(row);
  }
  return rows;
}

at::Tensor attention_mask(const std::vector<Batch>& examples) {
  at::Tensor mask = at::zeros({static_cast<std::int64_t>(examples.size()), longest(examples)}, at::kLong);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    mask[static_cast<std::int64_t>(i)].narrow(0, 0, examples[i].at(keys::input_ids).size(0)).fill_(1);
  }
  return mask;
}

}  // namespace peft::data
