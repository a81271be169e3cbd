#include "vpt.h"

#include <ATen/ATen.h>
#include <peft/backbone.h>
#include <peft/error.h>
#include <peft/taps.h>

#include <cmath>

namespace peft::vpt {

void Vpt::attach(Backbone& backbone, const std::vector<Site>&) {
  TransformerTaps& taps = require_taps(backbone, "vpt");
  const std::int64_t dim = taps.embed_dim();
  const auto grid = taps.patch_grid();
  if (!grid) {
    throw Error("vpt", "needs a transformer whose tokens are image patches, got backbone '" + backbone.name() + "'");
  }
  const std::int64_t patch = require_image_input(backbone, "vpt").preprocessing().image_size / (*grid)[0];
  // VPT's init: uniform(±√(6 / (3·p² + D))), p the patch size.
  const double bound = std::sqrt(6.0 / static_cast<double>(3 * patch * patch + dim));
  const auto reference = backbone.parameters().front();
  state_->prompts = at::empty({options_.deep ? taps.num_blocks() : 1, options_.tokens, dim}, reference.options())
                        .uniform_(-bound, bound)
                        .requires_grad_(false);
  state_->prefix = taps.num_prefix_tokens();
  const std::int64_t n = options_.tokens;
  const bool deep = options_.deep;
  const double dropout = options_.dropout;
  std::shared_ptr<State> state = state_;  // the hook outlives nothing it holds
  taps.hooks().block_input = [state, n, deep, dropout](std::int64_t block, const at::Tensor& tokens) {
    if (block > 0 && !deep) return tokens;
    at::Tensor prompts = state->prompts[deep ? block : 0];
    if (dropout > 0 && state->training) prompts = at::dropout(prompts, dropout, true);
    prompts = prompts.unsqueeze(0).expand({tokens.size(0), -1, -1}).to(tokens.scalar_type());
    const at::Tensor head = tokens.slice(1, 0, state->prefix);
    // Block 0 receives no prompts yet: insert them; later blocks' prompt outputs are replaced (deep).
    const at::Tensor rest = tokens.slice(1, state->prefix + (block == 0 ? 0 : n));
    return at::cat({head, prompts, rest}, 1);
  };
}

void Vpt::train(Backbone& backbone, bool training) {
  backbone.train(false);
  state_->training = training;
}

}  // namespace peft::vpt
