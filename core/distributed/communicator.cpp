#include "distributed/communicator.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <set>

#include "distributed/process_groups.h"
#include "peft/strings.h"

namespace peft {

bool distributed_available() { return gloo_built(); }

void check_distributed_available() {
  if (!gloo_built()) {
    throw Error("distributed",
                "this peft was built without c10d's Gloo process group (install libgloo-dev, "
                "scripts/install_deps.sh does, and rebuild): it runs as one process only");
  }
}

std::string process_groups_built() {
  std::vector<std::string> groups;
  if (gloo_built()) groups.emplace_back("gloo");
  if (nccl_built()) groups.emplace_back("nccl");
  return groups.empty() ? "none" : join(groups, ", ");
}

std::string resolve_backend(const std::string& backend, const at::Device& device, bool gpus_shared) {
  if (backend == "auto") return device.is_cuda() && nccl_built() && !gpus_shared ? "nccl" : "gloo";
  if (backend != "nccl") return backend;
  const std::string key = "distributed_backend = \"nccl\": ";
  if (!nccl_built()) {
    throw Error("train", key +
                             "this peft was built without NCCL (build it against a LibTorch with CUDA, as the "
                             "torch wheel's; \"gloo\" works everywhere)");
  }
  if (!device.is_cuda()) {
    throw Error("train", key + "NCCL reduces CUDA tensors, and this run's device is " + device.str() +
                             " (device = \"cuda\", or distributed_backend = \"gloo\" on the CPU)");
  }
  return backend;
}

void Communicator::failed(const std::string& what, const std::string& reason) const {
  std::string first_line = reason.substr(0, reason.find('\n'));
  throw CollectiveError("distributed", "rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": " + what +
                                           " failed (another rank died or timed out): " + first_line);
}

std::vector<double> Communicator::sum(std::vector<double> values, const std::string& what) {
  std::vector<at::Tensor> tensors{at::tensor(values, at::kDouble)};
  sum(tensors, what);
  // One copy out of the (CPU, contiguous) result: this runs every step, so no per-element tensor indexing.
  const double* total = tensors.front().data_ptr<double>();
  std::copy(total, total + values.size(), values.begin());
  return values;
}

Tally Communicator::sum(const Tally& tally, const std::string& what) {
  std::string names;
  for (const auto& [name, _] : tally.sums()) names += name + '\n';
  std::set<std::string> all;
  for (const auto& text : exchange(names)) {
    for (const auto& name : split(text, '\n')) {
      if (!name.empty()) all.insert(name);
    }
  }
  std::vector<double> values;
  for (const auto& name : all) {
    const auto found = tally.sums().find(name);
    values.push_back(found == tally.sums().end() ? 0.0 : found->second.sum);
    values.push_back(found == tally.sums().end() ? 0.0 : found->second.weight);
  }
  values = sum(std::move(values), what);
  Tally total;
  std::size_t i = 0;
  for (const auto& name : all) {
    total.add(name, values[i], values[i + 1]);
    i += 2;
  }
  return total;
}

namespace {

// The rendezvous: a TCPStore that rank 0 hosts, or the launcher's (torchrun's agent, `peft run --nproc`).
c10::intrusive_ptr<c10d::Store> connect_store(const World& world, std::chrono::seconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(world.master_port);
  options.isServer = !world.agent_store && world.rank == 0;
  options.numWorkers = world.size;
  options.waitWorkers = !world.agent_store;
  options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  // As torchrun's workers do: the agent's store is shared by restarts, so each attempt has its own keys.
  if (world.agent_store) {
    store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(world.restart_count), store);
  }
  return c10::make_intrusive<c10d::PrefixStore>("peft", store);
}

// The collectives on one c10d process group, whose tensors live on `device_` (the host for Gloo, this rank's GPU for
// NCCL): a tensor elsewhere is staged through a copy there and back.
class C10dCommunicator final : public Communicator {
 public:
  C10dCommunicator(const World& world, const std::string& backend, const at::Device& device,
                   std::chrono::seconds timeout)
      : Communicator(world.rank, world.size), device_(backend == "nccl" ? device : at::Device(at::kCPU)) {
    try {
      store_ = connect_store(world, timeout);
      group_ = backend == "nccl" ? make_nccl_group(store_, world, timeout, device_.has_index() ? device_.index() : 0)
                                 : make_gloo_group(store_, world, timeout);
    } catch (const Error&) {  // a CollectiveError too
      throw;
    } catch (const std::exception& e) {
      failed(
          "joining the " + backend + " process group at " + world.master_addr + ":" + std::to_string(world.master_port),
          e.what());
    }
  }

  void broadcast(std::vector<at::Tensor>& tensors, const std::string& what) override {
    run(what, [&] { each(tensors, [&](std::vector<at::Tensor>& one) { return group_->broadcast(one); }); });
  }

  void sum(std::vector<at::Tensor>& tensors, const std::string& what) override {
    run(what, [&] { each(tensors, [&](std::vector<at::Tensor>& one) { return group_->allreduce(one); }); });
  }

  // A one-element all-reduce: the same on every backend (NCCL's own barrier guesses a device).
  void barrier(const std::string& what) override {
    std::vector<at::Tensor> token{at::zeros({1}, at::TensorOptions().device(device_))};
    sum(token, what);
  }

  using Communicator::sum;

 protected:
  std::vector<std::string> exchange(const std::string& text) override {
    std::vector<std::string> texts;
    run("exchanging names", [&] {
      const std::string prefix = "exchange/" + std::to_string(exchanges_++) + "/";
      store_->set(prefix + std::to_string(rank()), std::vector<std::uint8_t>(text.begin(), text.end()));
      for (int r = 0; r < size(); ++r) {
        const auto bytes = store_->get(prefix + std::to_string(r));
        texts.emplace_back(bytes.begin(), bytes.end());
      }
    });
    return texts;
  }

 private:
  // `collective` on each of `tensors`, all started before any is waited for.
  template <typename Collective>
  void each(std::vector<at::Tensor>& tensors, Collective&& collective) {
    std::vector<at::Tensor> staged;
    for (const auto& tensor : tensors) staged.push_back(tensor.device() == device_ ? tensor : tensor.to(device_));
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& tensor : staged) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(collective(one));
    }
    for (auto& work : works) work->wait();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].device() != device_) tensors[i].copy_(staged[i]);
    }
  }

  template <typename Call>
  void run(const std::string& what, Call&& call) {
    try {
      call();
    } catch (const CollectiveError&) {
      throw;
    } catch (const std::exception& e) {
      failed(what, e.what());
    }
  }

  at::Device device_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> group_;
  std::int64_t exchanges_ = 0;
};

}  // namespace

std::unique_ptr<Communicator> Communicator::connect(const World& world, const std::string& backend,
                                                    const at::Device& device, std::chrono::seconds timeout) {
  check_distributed_available();
  return std::make_unique<C10dCommunicator>(world, backend, device, timeout);
}

}  // namespace peft
