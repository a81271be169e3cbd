#include "gift_options.h"

#include <peft/error.h>

namespace peft::gift {
namespace {

void heads_divide_dim(const GiftOptions& gift, const Options& options) {
  if (gift.dim % gift.heads != 0) {
    throw Error("gift", options.context_of("heads") + ": heads = " + std::to_string(gift.heads) +
                            ", expected a divisor of dim (" + std::to_string(gift.dim) + ")");
  }
}

}  // namespace

const OptionTable<GiftOptions>& gift_option_table() {
  using O = GiftOptions;
  static const auto table =
      OptionTable<O>()
          .add_choice("schema", &O::schema, {{"paca", O::Schema::paca}, {"linear", O::Schema::linear}},
                      "generator body: the PaCa hyper-Transformer (the paper) or none (dW = W P^T Q^T)")
          .add("dim", &O::dim, "generator width d (ViT-B: 48 for VTAB, 192 for FGVC; linear: 16)")
          .at_least(1)
          .add("blocks", &O::blocks, "PaCa blocks")
          .at_least(1)
          .add("clusters", &O::clusters, "clusters M per PaCa block")
          .at_least(1)
          .add("heads", &O::heads, "attention heads (dim must divide by it)")
          .at_least(1)
          .add("mlp_ratio", &O::mlp_ratio, "PaCa FFN hidden width / dim")
          .in_range(1e-9, 1e9)
          .add("positional_encoding", &O::positional_encoding, "learned positional encoding over W's rows (paca)")
          .add_choice("cluster_activation", &O::cluster_activation,
                      {{"sigmoid", O::ClusterActivation::sigmoid}, {"softmax", O::ClusterActivation::softmax}},
                      "cluster assignment: sigma(S)/N, the paper's, or a softmax over the tokens (ablation)")
          .add("reduction_bias", &O::reduction_bias, "bias on the reduction P")
          .add("recovery_bias", &O::recovery_bias, "bias on the recovery Q")
          .check(heads_divide_dim);
  return table;
}

}  // namespace peft::gift
