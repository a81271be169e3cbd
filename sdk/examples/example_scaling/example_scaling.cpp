// A second complete peft method plugin built against the installed SDK only, showing what example_method does not:
// typed recipe options (peft::OptionTable), an adapter_config.json written with peft::JsonObject, and a site adapter
// that wraps the layer (SiteAdapter::input_of and output_of) rather than adding to it. On each selected site it
// learns an input scale l_in [in] and an output gain l_out [out],
//
//     y = ((x ⊙ l_in) Wᵀ + b) ⊙ l_out
//
// both starting at `init` (1: the adapted model starts equal to the backbone), and merges by folding them into the
// layer: W' = diag(l_out) W diag(l_in), b' = l_out ⊙ b.
#include <peft/error.h>
#include <peft/json_object.h>
#include <peft/method.h>
#include <peft/option_table.h>
#include <peft/plugin.h>
#include <peft/site.h>

#include <ATen/core/grad_mode.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

// The recipe's [method.options]; the member initialisers are the defaults.
struct ScaleOptions {
  bool scale_input = true;
  bool scale_output = true;
  double init = 1.0;
};

// A whole-struct rule, run after every key is read: with neither scale there is nothing to train.
void scales_something(const ScaleOptions& scale, const peft::Options& options) {
  if (scale.scale_input || scale.scale_output) return;
  throw peft::Error("example_scale", options.context_of("scale_output") +
                                         ": scale_input = false and scale_output = false, expected at least one "
                                         "true (with neither, the method trains nothing)");
}

// Each key declared once: `peft list --options` documents it, recipes are checked against it, the factory gets the
// filled struct.
const peft::OptionTable<ScaleOptions>& scale_option_table() {
  static const auto table =
      peft::OptionTable<ScaleOptions>()
          .add("scale_input", &ScaleOptions::scale_input, "learn l_in [in], scaling each site's input: x * l_in")
          .add("scale_output", &ScaleOptions::scale_output, "learn l_out [out], scaling each site's output: y * l_out")
          // Near 0 a scale silences its layer (and its own gradient); far above 1 it blows the activations up.
          .add("init", &ScaleOptions::init, "the value every scale starts at; 1 starts at the backbone")
          .in_range(0.1, 10.0)
          .check(scales_something);
  return table;
}

// The per-site half. It holds the layer's weight and bias (tensors sharing the site's storage), not the site, which
// holds it: a handle back to the site would be a reference cycle.
class Scales final : public peft::SiteAdapter {
 public:
  Scales(const peft::Site& site, const ScaleOptions& options) : weight_(site->weight), bias_(site->bias) {
    const auto like = site->weight.options();
    if (options.scale_input) l_in = torch::full({site->in_features()}, options.init, like);
    if (options.scale_output) l_out = torch::full({site->out_features()}, options.init, like);
  }

  // Both hooks contribute nothing (an undefined tensor) when their scale is off, or once merged into the weight.
  torch::Tensor input_of(const torch::Tensor& input) override {
    return l_in.defined() && !merged() ? input * l_in : torch::Tensor();
  }
  torch::Tensor output_of(const torch::Tensor&, const torch::Tensor& output) override {
    return l_out.defined() && !merged() ? output * l_out : torch::Tensor();
  }

  void merge() {
    at::NoGradGuard no_grad;
    saved_weight_ = weight_.clone();
    if (bias_.defined()) saved_bias_ = bias_.clone();
    // (x ⊙ l_in) Wᵀ = x (W diag(l_in))ᵀ: W's column j times l_in[j]. Then l_out scales W's rows and the bias.
    if (l_in.defined()) weight_.mul_(l_in);
    if (l_out.defined()) {
      weight_.mul_(l_out.unsqueeze(1));
      if (bias_.defined()) bias_.mul_(l_out);
    }
  }
  // Restores the copy taken by merge: dividing by a learned scale near 0 would not give the weight back exactly.
  void unmerge() {
    at::NoGradGuard no_grad;
    weight_.copy_(saved_weight_);
    if (bias_.defined()) bias_.copy_(saved_bias_);
    saved_weight_ = saved_bias_ = torch::Tensor();
  }

  torch::Tensor l_in;   // [in]; undefined with scale_input = false
  torch::Tensor l_out;  // [out]; undefined with scale_output = false

 private:
  bool merged() const { return saved_weight_.defined(); }

  torch::Tensor weight_;
  torch::Tensor bias_;
  torch::Tensor saved_weight_;
  torch::Tensor saved_bias_;
};

// The whole-model half: made by the factory from the filled options, it attaches the scales, lists them for
// training, merges them and describes them in adapter_config.json.
class ExampleScale final : public peft::Method {
 public:
  explicit ExampleScale(const ScaleOptions& options) : options_(options) {}

  // Scales starting elsewhere than 1 change the model before any training; the contract suite then skips that check.
  bool starts_at_backbone() const override { return options_.init == 1.0; }

  void attach(peft::Backbone&, const std::vector<peft::Site>& sites) override {
    for (const peft::Site& site : sites) {
      scales_.emplace_back(site->site_name(), std::make_shared<Scales>(site, options_));
      site->attach(scales_.back().second);
    }
  }
  std::vector<peft::TrainableTensor> trainable_tensors() override {
    std::vector<peft::TrainableTensor> tensors;
    for (const auto& [name, scales] : scales_) {
      if (scales->l_in.defined()) tensors.push_back({name + ".l_in", scales->l_in});
      if (scales->l_out.defined()) tensors.push_back({name + ".l_out", scales->l_out});
    }
    return tensors;
  }
  std::string merge_refusal() const override { return {}; }
  void merge() override {
    for (auto& [name, scales] : scales_) scales->merge();
  }
  void unmerge() override {
    for (auto& [name, scales] : scales_) scales->unmerge();
  }

  // The method's own keys. With no `peft_type` (this is no Hugging Face peft method) the host writes the file as
  // peft's own config: `method` and the resolved `options` first, then these.
  std::string adapter_config_json() const override {
    std::vector<peft::JsonObject> sites;
    for (const auto& [name, scales] : scales_) {
      peft::JsonObject site = peft::JsonObject().add("site", name);
      if (scales->l_in.defined()) site.add("l_in", scales->l_in.size(0));
      if (scales->l_out.defined()) site.add("l_out", scales->l_out.size(0));
      sites.push_back(site);
    }
    return peft::JsonObject()
        .add("output", "((x * l_in) W^T + b) * l_out; an l_in or l_out a site does not list is 1")
        .add("sites", sites)
        .text();
  }

 private:
  ScaleOptions options_;
  std::vector<std::pair<std::string, std::shared_ptr<Scales>>> scales_;
};

void register_example_scale(peft::Registry& registry) {
  registry.add_method({"example_scale",
                       "Example method with options from the SDK's out-of-tree plugins: learned input and output "
                       "scales per site (mergeable)",
                       scale_option_table(),
                       [](const ScaleOptions& options) { return std::make_shared<ExampleScale>(options); }});
}

}  // namespace

PEFT_PLUGIN(peft::PluginKind::method, "example_scale", "0.1.0",
            "Example method with options from the SDK's out-of-tree plugins", register_example_scale)
