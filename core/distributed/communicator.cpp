#include "distributed/communicator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <set>

#include "peft/strings.h"

#ifdef PEFT_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace peft {

void check_backend_available(const std::string& backend) {
  if (backend == "nccl") {
    throw Error("distributed",
                "[train] distributed_backend = \"nccl\": this peft has no NCCL process group yet (\"gloo\" "
                "works on the CPU and, through host copies, on CUDA)");
  }
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

#ifdef PEFT_WITH_GLOO

namespace {

class GlooCommunicator final : public Communicator {
 public:
  GlooCommunicator(const World& world, std::chrono::seconds timeout) : Communicator(world.rank, world.size) {
    try {
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
      store_ = c10::make_intrusive<c10d::PrefixStore>("peft", store);
      auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
      group_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(loopback(world)));
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store_),
                                                           world.rank, world.size, group_options);
    } catch (const std::exception& e) {
      failed("joining the process group at " + world.master_addr + ":" + std::to_string(world.master_port), e.what());
    }
  }

  void broadcast(std::vector<at::Tensor>& tensors, const std::string& what) override {
    run(what, [&] { each(tensors, [&](std::vector<at::Tensor>& one) { return group_->broadcast(one); }); });
  }

  void sum(std::vector<at::Tensor>& tensors, const std::string& what) override {
    run(what, [&] { each(tensors, [&](std::vector<at::Tensor>& one) { return group_->allreduce(one); }); });
  }

  void barrier(const std::string& what) override {
    run(what, [&] { group_->barrier()->wait(); });
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
  // Gloo's device binds the address this host is reached at; on one machine, loopback.
  static std::string loopback(const World& world) {
    return world.master_addr == "localhost" || world.master_addr.rfind("127.", 0) == 0 ? "127.0.0.1"
                                                                                       : world.master_addr;
  }

  // `collective` on each of `tensors`, all started before any is waited for. Gloo works in host memory: a tensor
  // on a GPU goes through a host copy (NCCL would be the GPU's backend).
  template <typename Collective>
  static void each(std::vector<at::Tensor>& tensors, Collective&& collective) {
    std::vector<at::Tensor> host;
    for (const auto& tensor : tensors) host.push_back(tensor.is_cpu() ? tensor : tensor.cpu());
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& tensor : host) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(collective(one));
    }
    for (auto& work : works) work->wait();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (!tensors[i].is_cpu()) tensors[i].copy_(host[i]);
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

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  std::int64_t exchanges_ = 0;
};

}  // namespace

bool distributed_available() { return true; }

std::unique_ptr<Communicator> Communicator::connect(const World& world, const std::string& backend,
                                                    std::chrono::seconds timeout) {
  check_backend_available(backend);
  return std::make_unique<GlooCommunicator>(world, timeout);
}

#else

bool distributed_available() { return false; }

std::unique_ptr<Communicator> Communicator::connect(const World&, const std::string&, std::chrono::seconds) {
  throw Error("distributed",
              "this peft was built without c10d's Gloo process group (install libgloo-dev, "
              "scripts/install_deps.sh does, and rebuild): it runs as one process only");
}

#endif

}  // namespace peft
