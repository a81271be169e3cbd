#include "post_processors.h"

#include <nlohmann/json.hpp>

#include "json_fields.h"

namespace peft::hf {
namespace {

// A single-sequence template: special tokens' ids before and after the sequence.
class Wrap final : public PostProcessor {
 public:
  Wrap(std::vector<std::int64_t> before, std::vector<std::int64_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}
  std::vector<std::int64_t> process(std::vector<std::int64_t> ids) const override {
    std::vector<std::int64_t> out = before_;
    out.insert(out.end(), ids.begin(), ids.end());
    out.insert(out.end(), after_.begin(), after_.end());
    return out;
  }

 private:
  std::vector<std::int64_t> before_, after_;
};

class Sequence final : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  std::vector<std::int64_t> process(std::vector<std::int64_t> ids) const override {
    for (const auto& step : steps_) ids = step->process(std::move(ids));
    return ids;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

class Identity final : public PostProcessor {
 public:
  std::vector<std::int64_t> process(std::vector<std::int64_t> ids) const override { return ids; }
};

// TemplateProcessing's "single": [{"SpecialToken": {"id": name}}, {"Sequence": {"id": "A"}}, …], the names'
// ids in "special_tokens".
std::unique_ptr<PostProcessor> template_from_json(const nlohmann::json& json, const std::string& where) {
  const nlohmann::json& single = array_field(json, "single", where);
  const nlohmann::json& specials = field(json, "special_tokens", where);
  std::vector<std::int64_t> before, after;
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const std::string item = where + ".single[" + std::to_string(i) + "]";
    if (single[i].contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    const std::string name = string_field(field(single[i], "SpecialToken", item), "id", item + ".SpecialToken");
    const nlohmann::json& ids =
        array_field(field(specials, name, where + ".special_tokens"), "ids", where + ".special_tokens." + name);
    for (const nlohmann::json& id : ids) {
      if (!id.is_number_integer()) bad_field(where + ".special_tokens." + name, "ids", "integers", id);
      (seen_sequence ? after : before).push_back(id.get<std::int64_t>());
    }
  }
  return std::make_unique<Wrap>(std::move(before), std::move(after));
}

// Bert/Roberta's "cls" and "sep": [token, id].
std::int64_t pair_id(const nlohmann::json& json, const std::string& key, const std::string& where) {
  const nlohmann::json& value = field(json, key, where);
  if (!value.is_array() || value.size() != 2 || !value[1].is_number_integer()) {
    bad_field(where, key, "[token, id]", value);
  }
  return value[1].get<std::int64_t>();
}

}  // namespace

std::unique_ptr<PostProcessor> post_processor_from_json(const nlohmann::json& json, const std::string& where) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json, where);
  if (type == "TemplateProcessing") return template_from_json(json, where);
  if (type == "ByteLevel") return std::make_unique<Identity>();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return std::make_unique<Wrap>(std::vector<std::int64_t>{pair_id(json, "cls", where)},
                                  std::vector<std::int64_t>{pair_id(json, "sep", where)});
  }
  if (type == "Sequence") {
    return std::make_unique<Sequence>(
        parts_from_json<PostProcessor>(json, "processors", where, post_processor_from_json));
  }
  throw Error("tokenizer", where + ": post_processor type '" + type +
                               "' is not supported (supported: TemplateProcessing, BertProcessing, "
                               "RobertaProcessing, ByteLevel, Sequence)");
}

}  // namespace peft::hf
