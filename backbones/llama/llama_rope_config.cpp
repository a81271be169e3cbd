#include "llama_rope_config.h"

#include <map>
#include <set>

namespace peft::llama {
namespace {

using nlohmann::json;

// The keys peft applies for each rope_type (besides rope_type, its old name `type`, and rope_theta).
const std::map<std::string, std::set<std::string>>& rope_type_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"default", {}},
      {"linear", {"factor"}},
      {"llama3", {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}}};
  return keys;
}

std::string joined(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

std::string rope_type_of(const ConfigFields& rope) {
  const std::string type = rope.text("rope_type", "");
  const std::string old_name = rope.text("type", "");
  if (!type.empty() && !old_name.empty() && type != old_name) {
    rope.fail("type", "= '" + old_name + "' contradicts rope_type = '" + type + "'");
  }
  const std::string given = type.empty() ? old_name : type;
  if (given.empty()) return "default";
  if (rope_type_keys().count(given) == 0) {
    rope.fail("rope_type", "= '" + given + "' is not supported (supported: default, linear, llama3)");
  }
  return given;
}

// Every key of `rope` is one peft applies for its type: an unknown one would change the model without a word.
void check_known_keys(const ConfigFields& rope, const std::string& type, bool theta_allowed) {
  const std::set<std::string>& own = rope_type_keys().at(type);
  for (const auto& [key, value] : rope.object().items()) {
    if (key == "rope_type" || key == "type" || (key == "rope_theta" && theta_allowed) || own.count(key) != 0) {
      continue;
    }
    // transformers writes partial_rotary_factor = 1.0 for models that rotate whole heads, as peft does.
    if (key == "partial_rotary_factor" && value.is_number() && value.get<double>() == 1.0) continue;
    rope.fail(key, "= " + value.dump() + " is not understood for rope_type '" + type + "' (peft applies: rope_theta" +
                       (own.empty() ? "" : ", " + joined(own)) + ")");
  }
}

RopeScaling scaling_of(const ConfigFields& rope, const std::string& type) {
  RopeScaling scaling;
  if (type == "default") return scaling;
  scaling.type = type;
  scaling.factor = rope.number("factor");
  if (!(scaling.factor >= 1.0)) rope.fail("factor", "= " + rope.at("factor").dump() + ", expected at least 1");
  if (type == "llama3") {
    scaling.low_freq_factor = rope.number("low_freq_factor");
    scaling.high_freq_factor = rope.number("high_freq_factor");
    scaling.original_max_position_embeddings = rope.positive("original_max_position_embeddings");
    if (!(scaling.high_freq_factor > scaling.low_freq_factor)) {
      rope.fail("high_freq_factor", "must be larger than low_freq_factor");
    }
  }
  return scaling;
}

// transformers 5: everything in one object; rope_theta is required there (transformers fails without it too).
RopeSettings from_parameters(const ConfigFields& config) {
  for (const char* legacy : {"rope_scaling", "rope_theta"}) {
    if (config.has(legacy)) {
      config.fail(legacy, "is given beside rope_parameters: give RoPE settings in one of the two layouts");
    }
  }
  const ConfigFields rope = config.nested("rope_parameters");
  for (const auto& [key, value] : rope.object().items()) {
    if (value.is_object()) {
      rope.fail(key, "holds RoPE parameters per attention type, which the llama backbone does not have");
    }
  }
  const std::string type = rope_type_of(rope);
  check_known_keys(rope, type, true);
  return {rope.number("rope_theta"), scaling_of(rope, type)};
}

// transformers 4: rope_theta beside an optional rope_scaling object (null or "default" for none).
RopeSettings from_legacy(const ConfigFields& config) {
  RopeSettings settings;
  settings.theta = config.number("rope_theta", 10000.0);
  if (!config.has("rope_scaling")) return settings;
  const ConfigFields rope = config.nested("rope_scaling");
  const std::string type = rope_type_of(rope);
  check_known_keys(rope, type, false);
  settings.scaling = scaling_of(rope, type);
  return settings;
}

}  // namespace

RopeSettings read_rope_settings(const ConfigFields& config) {
  return config.has("rope_parameters") ? from_parameters(config) : from_legacy(config);
}

}  // namespace peft::llama
