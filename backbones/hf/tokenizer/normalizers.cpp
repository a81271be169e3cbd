#include "normalizers.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "json_fields.h"
#include "pattern.h"
#include "unicode.h"

namespace peft::hf {
namespace {

class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(NormalForm form) : form_(form) {}
  std::string normalize(std::string text) const override { return hf::normalize(text, form_); }

 private:
  NormalForm form_;
};

class Lowercase final : public Normalizer {
 public:
  std::string normalize(std::string text) const override { return lowercase(text); }
};

class StripAccents final : public Normalizer {
 public:
  std::string normalize(std::string text) const override { return strip_accents(text); }
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string text) const override {
    std::size_t start = 0, end = text.size(), length = 0;
    while (left_ && start < end && is_whitespace(code_point_at(text, start, length))) start += length;
    std::size_t back = 0;
    while (right_ && end > start && is_whitespace(code_point_before(text, end, back))) end = back;
    return text.substr(start, end - start);
  }

 private:
  bool left_, right_;
};

class Replace final : public Normalizer {
 public:
  Replace(const nlohmann::json& json, const std::string& where)
      : pattern_(field(json, "pattern", where), where + ".pattern"), content_(string_field(json, "content", where)) {}
  std::string normalize(std::string text) const override { return pattern_.replace(text, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string text) const override { return text.empty() ? text : prefix_ + text; }

 private:
  std::string prefix_;
};

// BERT's: control characters dropped and whitespace made spaces, CJK ideographs spaced apart, accents stripped,
// lowercased.
class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(const nlohmann::json& json, const std::string& where)
      : clean_text_(bool_or(json, "clean_text", true, where)),
        chinese_(bool_or(json, "handle_chinese_chars", true, where)),
        lowercase_(bool_or(json, "lowercase", true, where)),
        strip_accents_(bool_or(json, "strip_accents", lowercase_, where)) {}

  std::string normalize(std::string text) const override {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0, length = 0; pos < text.size(); pos += length) {
      const char32_t c = code_point_at(text, pos, length);
      if (clean_text_ && (c == 0 || c == 0xFFFD || is_control(c))) continue;
      if (clean_text_ && is_whitespace(c)) {
        out += ' ';
      } else if (chinese_ && is_cjk(c)) {
        out += ' ';
        append_utf8(out, c);
        out += ' ';
      } else {
        append_utf8(out, c);
      }
    }
    if (strip_accents_) out = strip_accents(hf::normalize(out, NormalForm::nfd));
    if (lowercase_) out = lowercase(out);
    return out;
  }

 private:
  bool clean_text_, chinese_, lowercase_, strip_accents_;
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string text) const override {
    for (const auto& step : steps_) text = step->normalize(std::move(text));
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> normalizer_from_json(const nlohmann::json& json, const std::string& where) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json, where);
  if (type == "NFC") return std::make_unique<UnicodeForm>(NormalForm::nfc);
  if (type == "NFD") return std::make_unique<UnicodeForm>(NormalForm::nfd);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(NormalForm::nfkc);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(NormalForm::nfkd);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip") {
    return std::make_unique<Strip>(bool_or(json, "strip_left", false, where),
                                   bool_or(json, "strip_right", false, where));
  }
  if (type == "Replace") return std::make_unique<Replace>(json, where);
  if (type == "Prepend") return std::make_unique<Prepend>(string_field(json, "prepend", where));
  if (type == "BertNormalizer") return std::make_unique<BertNormalizer>(json, where);
  if (type == "Sequence") {
    return std::make_unique<Sequence>(parts_from_json<Normalizer>(json, "normalizers", where, normalizer_from_json));
  }
  throw Error("tokenizer", where + ": normalizer type '" + type +
                               "' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, "
                               "StripAccents, Replace, Prepend, BertNormalizer, Sequence)");
}

}  // namespace peft::hf
