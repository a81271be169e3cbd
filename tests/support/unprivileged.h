#pragma once

#include <functional>
#include <string>

namespace peft::test {

/// Runs `body` without root's power to ignore file permissions and returns what it returned: directly when this
/// process is not root, otherwise in a forked child that first becomes the user `nobody` (uid/gid 65534). CI runs
/// as root, and a permission test that root passes by default would test nothing there.
std::string run_unprivileged(const std::function<std::string()>& body);

}  // namespace peft::test
