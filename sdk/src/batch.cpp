#include "peft/batch.h"

#include <algorithm>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

TensorDict::TensorDict(std::string kind, std::string component, std::initializer_list<Entry> entries)
    : kind_(std::move(kind)), component_(std::move(component)) {
  for (const auto& [name, tensor] : entries) set(name, tensor);
}

std::size_t TensorDict::index_of(std::string_view name) const {
  const auto found =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& entry) { return entry.first == name; });
  return static_cast<std::size_t>(found - entries_.begin());
}

void TensorDict::set(const std::string& name, at::Tensor tensor) {
  const std::size_t index = index_of(name);
  if (index < entries_.size()) {
    entries_[index].second = std::move(tensor);
  } else {
    entries_.emplace_back(name, std::move(tensor));
  }
}

bool TensorDict::has(std::string_view name) const { return index_of(name) < entries_.size(); }

const at::Tensor& TensorDict::at(std::string_view name) const {
  const std::size_t index = index_of(name);
  if (index < entries_.size()) return entries_[index].second;
  throw Error(component_, "no '" + std::string(name) + "' in the " + kind_ + " (present: " + names_text() + ")");
}

at::Tensor TensorDict::get(std::string_view name) const {
  const std::size_t index = index_of(name);
  return index < entries_.size() ? entries_[index].second : at::Tensor();
}

void TensorDict::erase(std::string_view name) {
  entries_.erase(
      std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& entry) { return entry.first == name; }),
      entries_.end());
}

std::vector<std::string> TensorDict::names() const {
  std::vector<std::string> names;
  for (const auto& entry : entries_) names.push_back(entry.first);
  return names;
}

std::string TensorDict::names_text() const { return entries_.empty() ? "nothing" : join(names(), ", "); }

std::int64_t TensorDict::size() const {
  for (const auto& entry : entries_) {
    if (entry.second.defined() && entry.second.dim() > 0) return entry.second.size(0);
  }
  return 0;
}

void TensorDict::to_device(const c10::Device& device) {
  for (auto& entry : entries_) {
    if (!entry.second.defined()) continue;
    // From page-locked memory a copy to the GPU is asynchronous (the host allocator keeps the block until it is
    // done), as PyTorch's batch.to(device, non_blocking=True) after DataLoader(pin_memory=True).
    const bool asynchronous = device.is_cuda() && entry.second.is_cpu() && entry.second.is_pinned();
    entry.second = entry.second.to(at::TensorOptions().device(device), asynchronous);
  }
}

Batch Batch::to(const c10::Device& device) const {
  Batch moved = *this;
  moved.to_device(device);
  return moved;
}

}  // namespace peft
