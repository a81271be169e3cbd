#include "gift_options.h"

#include <peft/error.h>

namespace peft::gift {
namespace {

[[noreturn]] void bad(const Options& options, const std::string& key, const std::string& value,
                      const std::string& expected) {
  throw Error("gift", options.context() + ": " + key + " = " + value + ", expected " + expected);
}

std::int64_t at_least_one(const Options& options, const std::string& key) {
  const auto value = options.get<std::int64_t>(key);
  if (value < 1) bad(options, key, std::to_string(value), "1 or more");
  return value;
}

}  // namespace

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
  gift.schema = options.get<std::string>("schema");
  if (gift.schema != "paca" && gift.schema != "linear")
    bad(options, "schema", "\"" + gift.schema + "\"", "paca or linear");
  gift.dim = at_least_one(options, "dim");
  gift.blocks = at_least_one(options, "blocks");
  gift.clusters = at_least_one(options, "clusters");
  gift.heads = at_least_one(options, "heads");
  if (gift.dim % gift.heads != 0) {
    bad(options, "heads", std::to_string(gift.heads), "a divisor of dim (" + std::to_string(gift.dim) + ")");
  }
  gift.mlp_ratio = options.get<double>("mlp_ratio");
  if (!(gift.mlp_ratio > 0)) bad(options, "mlp_ratio", to_string(OptionValue(gift.mlp_ratio)), "a number > 0");
  gift.positional_encoding = options.get<bool>("positional_encoding");
  gift.cluster_activation = options.get<std::string>("cluster_activation");
  if (gift.cluster_activation != "sigmoid" && gift.cluster_activation != "softmax") {
    bad(options, "cluster_activation", "\"" + gift.cluster_activation + "\"", "sigmoid or softmax");
  }
  gift.reduction_bias = options.get<bool>("reduction_bias");
  gift.recovery_bias = options.get<bool>("recovery_bias");
  return gift;
}

}  // namespace peft::gift
