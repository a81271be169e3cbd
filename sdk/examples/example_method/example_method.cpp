// A complete peft method plugin built against the installed SDK only: it learns one offset vector per selected
// site, added to that site's output (y = x Wᵀ + b + δ), and merges by folding δ into the bias. Everything here comes
// from the SDK headers; the plugin links peft::sdk and nothing else of peft's.
#include <peft/error.h>
#include <peft/method.h>
#include <peft/plugin.h>
#include <peft/site.h>

#include <ATen/core/grad_mode.h>

#include <memory>

namespace {

// The per-site half: one offset δ [out].
class Offset final : public peft::SiteAdapter {
 public:
  explicit Offset(const peft::Site& site) : bias_(site->bias), delta(torch::zeros_like(site->bias)) {}
  torch::Tensor output_delta(const torch::Tensor&) override { return merged_ ? torch::Tensor() : delta; }
  void fold(bool merge) {
    at::NoGradGuard no_grad;
    bias_.add_(merge ? delta : -delta);
    merged_ = merge;
  }

  torch::Tensor bias_;
  torch::Tensor delta;
  bool merged_ = false;
};

// The whole-model half: attaches the offsets, lists them for training, merges them.
class ExampleMethod final : public peft::Method {
 public:
  void attach(peft::Backbone&, const std::vector<peft::Site>& sites) override {
    for (const peft::Site& site : sites) {
      if (!site->has_bias()) throw peft::Error("example", site->site_name() + " has no bias to fold an offset into");
      offsets_.emplace_back(site->site_name(), std::make_shared<Offset>(site));
      site->attach(offsets_.back().second);
    }
  }
  std::vector<peft::TrainableTensor> trainable_tensors() override {
    std::vector<peft::TrainableTensor> tensors;
    for (const auto& [name, offset] : offsets_) tensors.push_back({name + ".offset", offset->delta});
    return tensors;
  }
  std::string merge_refusal() const override { return {}; }
  void merge() override {
    for (auto& [name, offset] : offsets_) offset->fold(true);
  }
  void unmerge() override {
    for (auto& [name, offset] : offsets_) offset->fold(false);
  }

 private:
  std::vector<std::pair<std::string, std::shared_ptr<Offset>>> offsets_;
};

void register_example(peft::Registry& registry) {
  registry.add_method({"example", "Example method from the SDK's out-of-tree plugin: a learned offset per site",
                       [](const peft::Options&) { return std::make_shared<ExampleMethod>(); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "example", "0.1.0", "Example method from the SDK's out-of-tree plugin",
            register_example)
