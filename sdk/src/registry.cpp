#include "peft/registry.h"

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {
namespace {

std::string describe_origin(const std::string& origin) { return origin.empty() ? "<in-process>" : origin; }

}  // namespace

bool is_valid_plugin_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

template <class Interface>
void RegistryTable<Interface>::add(RegistryEntry<Interface> entry) {
  if (!is_valid_plugin_name(entry.name)) {
    throw Error("registry", "invalid " + kind_ + " name '" + entry.name + "' from " + describe_origin(entry.origin) +
                                ", expected [a-z][a-z0-9_]* of at most 64 characters");
  }
  if (!entry.create) {
    throw Error("registry", kind_ + " '" + entry.name + "' from " + describe_origin(entry.origin) + " has no factory");
  }
  if (const auto* existing = find(entry.name)) {
    throw Error("registry", "duplicate " + kind_ + " '" + entry.name + "' in " + describe_origin(existing->origin) +
                                " and " + describe_origin(entry.origin));
  }
  entries_.push_back(std::move(entry));
}

template <class Interface>
const RegistryEntry<Interface>* RegistryTable<Interface>::find(std::string_view name) const {
  for (const auto& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

template <class Interface>
const RegistryEntry<Interface>& RegistryTable<Interface>::at(std::string_view name) const {
  if (const auto* entry = find(name)) return *entry;
  throw Error("registry", "unknown " + kind_ + " '" + std::string(name) + "', expected one of: " +
                              (entries_.empty() ? "(none loaded; see peft list)" : join(names())));
}

template <class Interface>
std::vector<std::string> RegistryTable<Interface>::names() const {
  std::vector<std::string> result;
  for (const auto& entry : entries_) result.push_back(entry.name);
  return result;
}

template class RegistryTable<Method>;
template class RegistryTable<Backbone>;
template class RegistryTable<Task>;

}  // namespace peft
