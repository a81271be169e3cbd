#include "gift_options.h"

#include <peft/error.h>

namespace peft::gift {

const std::vector<OptionSpec>& gift_option_specs() {
  using T = OptionType;
  const GiftOptions d;
  static const std::vector<OptionSpec> specs{
      {"schema", T::string, d.schema, "paca (PaCa hyper-Transformer, the paper) | linear (dW = W P^T Q^T)"},
      {"dim", T::integer, d.dim, "generator width d (ViT-B: 48 for VTAB, 192 for FGVC; linear: 16)"},
      {"blocks", T::integer, d.blocks, "PaCa blocks"},
      {"clusters", T::integer, d.clusters, "clusters M per PaCa block"},
      {"heads", T::integer, d.heads, "attention heads (dim must divide by it)"},
      {"mlp_ratio", T::number, d.mlp_ratio, "PaCa FFN hidden width / dim"},
      {"positional_encoding", T::boolean, d.positional_encoding, "learned positional encoding over W's rows (paca)"},
      {"cluster_activation", T::string, d.cluster_activation,
       "sigmoid (sigma(S)/N, the paper's) | softmax over the tokens (ablation)"},
      {"reduction_bias", T::boolean, d.reduction_bias, "bias on the reduction P"},
      {"recovery_bias", T::boolean, d.recovery_bias, "bias on the recovery Q"},
  };
  return specs;
}

GiftOptions gift_options_from(const Options& options) {
  GiftOptions gift;
  gift.schema = options.one_of("schema", {"paca", "linear"});
  gift.dim = options.integer_at_least("dim", 1);
  gift.blocks = options.integer_at_least("blocks", 1);
  gift.clusters = options.integer_at_least("clusters", 1);
  gift.heads = options.integer_at_least("heads", 1);
  if (gift.dim % gift.heads != 0) {
    throw Error("gift", options.context() + ": heads = " + std::to_string(gift.heads) +
                            ", expected a divisor of dim (" + std::to_string(gift.dim) + ")");
  }
  gift.mlp_ratio = options.number_in("mlp_ratio", 1e-9, 1e9);
  gift.positional_encoding = options.get<bool>("positional_encoding");
  gift.cluster_activation = options.one_of("cluster_activation", {"sigmoid", "softmax"});
  gift.reduction_bias = options.get<bool>("reduction_bias");
  gift.recovery_bias = options.get<bool>("recovery_bias");
  return gift;
}

}  // namespace peft::gift
