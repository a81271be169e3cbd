#include "peft/error.h"

namespace peft {

Error::Error(const std::string& component, const std::string& message)
    : std::runtime_error("[" + component + "] " + message), component_(component) {}

Error::~Error() = default;

}  // namespace peft
