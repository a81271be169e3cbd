#include "decoders.h"

#include <nlohmann/json.hpp>

#include "byte_level.h"
#include "json_fields.h"
#include "pattern.h"
#include "unicode.h"

namespace peft::hf {
namespace {

// Byte-level characters back to bytes; a token with a character outside the alphabet stays as its own bytes.
class ByteLevel final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      std::string decoded;
      bool in_alphabet = true;
      for (std::size_t pos = 0, length = 0; pos < token.size() && in_alphabet; pos += length) {
        const auto byte = byte_of(code_point_at(token, pos, length));
        if (byte) {
          decoded += static_cast<char>(*byte);
        } else {
          in_alphabet = false;
        }
      }
      bytes += in_alphabet ? decoded : token;
    }
    return {utf8_lossy(bytes)};
  }
};

class Metaspace final : public Decoder {
 public:
  Metaspace(const nlohmann::json& json, const std::string& where)
      : replacement_(string_or(json, "replacement", "\xE2\x96\x81", where)), strip_first_(prepends(json, where)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (std::size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && pos == 0 && strip_first_)) out += ' ';
          pos += replacement_.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  static bool prepends(const nlohmann::json& json, const std::string& where) {
    if (json.contains("prepend_scheme") && !json.at("prepend_scheme").is_null()) {
      return string_field(json, "prepend_scheme", where) != "never";
    }
    return bool_or(json, "add_prefix_space", true, where);
  }
  std::string replacement_;
  bool strip_first_;
};

class Replace final : public Decoder {
 public:
  Replace(const nlohmann::json& json, const std::string& where)
      : pattern_(field(json, "pattern", where), where + ".pattern"), content_(string_field(json, "content", where)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) token = pattern_.replace(token, content_);
    return tokens;
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Runs of <0xNN> tokens as the UTF-8 text they spell, or one U+FFFD per byte when they spell none.
class ByteFallback final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    const auto flush = [&] {
      if (bytes.empty()) return;
      if (invalid_utf8_offset(bytes) == std::string::npos) {
        out.push_back(bytes);
      } else {
        for (std::size_t i = 0; i < bytes.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      bytes.clear();
    };
    for (std::string& token : tokens) {
      if (const auto byte = byte_token_value(token)) {
        bytes += static_cast<char>(*byte);
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    return out;
  }

 private:
  static std::optional<unsigned char> byte_token_value(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return std::nullopt;
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int high = hex(token[3]), low = hex(token[4]);
    if (high < 0 || low < 0) return std::nullopt;
    return static_cast<unsigned char>(high * 16 + low);
  }
};

class Fuse final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    return {joined};
  }
};

// Up to `start` leading and `stop` trailing copies of one character removed from each token.
class Strip final : public Decoder {
 public:
  Strip(const nlohmann::json& json, const std::string& where)
      : content_(string_field(json, "content", where)),
        start_(static_cast<std::size_t>(integer_field(json, "start", where))),
        stop_(static_cast<std::size_t>(integer_field(json, "stop", where))) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) {
      std::size_t begin = 0, end = token.size();
      for (std::size_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0 && begin < end; ++i) {
        begin += content_.size();
      }
      for (std::size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                              token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
    return tokens;
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class WordPiece final : public Decoder {
 public:
  WordPiece(const nlohmann::json& json, const std::string& where)
      : prefix_(string_or(json, "prefix", "##", where)), cleanup_(bool_or(json, "cleanup", true, where)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string& token = tokens[i];
      if (i != 0) {
        if (token.rfind(prefix_, 0) == 0) {
          token.erase(0, prefix_.size());
        } else {
          token.insert(0, " ");
        }
      }
      if (cleanup_) token = cleanup(token);
    }
    return tokens;
  }

 private:
  // BERT's clean_up_tokenization: spaces before punctuation and English contractions removed.
  static std::string cleanup(std::string text) {
    static const std::pair<const char*, const char*> kReplacements[] = {
        {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kReplacements) {
      const std::string_view needle(from);
      std::string out;
      std::size_t previous = 0;
      for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, previous)) {
        out.append(text, previous, at - previous);
        out += to;
        previous = at + needle.size();
      }
      out.append(text, previous);
      text = std::move(out);
    }
    return text;
  }
  std::string prefix_;
  bool cleanup_;
};

class Sequence final : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& step : steps_) tokens = step->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::string Decoder::decode(std::vector<std::string> tokens) const {
  std::string text;
  for (const std::string& piece : decode_chain(std::move(tokens))) text += piece;
  return text;
}

std::unique_ptr<Decoder> decoder_from_json(const nlohmann::json& json, const std::string& where) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json, where);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Metaspace") return std::make_unique<Metaspace>(json, where);
  if (type == "Replace") return std::make_unique<Replace>(json, where);
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") return std::make_unique<Strip>(json, where);
  if (type == "WordPiece") return std::make_unique<WordPiece>(json, where);
  if (type == "Sequence") {
    return std::make_unique<Sequence>(parts_from_json<Decoder>(json, "decoders", where, decoder_from_json));
  }
  throw Error("tokenizer", where + ": decoder type '" + type +
                               "' is not supported (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, "
                               "Strip, WordPiece, Sequence)");
}

}  // namespace peft::hf
