#include "tokenizer_json.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "bpe.h"
#include "hf_tokenizer.h"
#include "json_fields.h"
#include "peft/bounded_json.h"
#include "unigram.h"
#include "wordpiece.h"

namespace peft::hf {
namespace {

// {"token": id, …} as tokens by id.
std::vector<std::string> tokens_by_id(const nlohmann::json& vocab, const std::string& where) {
  if (!vocab.is_object()) bad_field(where, "vocab", "an object of token: id", vocab);
  std::vector<std::string> tokens;
  tokens.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > (1 << 30)) {
      bad_field(where + ".vocab", token, "a non-negative id", id);
    }
    const auto index = static_cast<std::size_t>(id.get<std::int64_t>());
    if (index >= tokens.size()) tokens.resize(index + 1);
    tokens[index] = token;
  }
  return tokens;
}

// Merges as "a b" strings or as [a, b] pairs.
std::vector<std::pair<std::string, std::string>> merges_of(const nlohmann::json& json, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> merges;
  if (!json.contains("merges") || json.at("merges").is_null()) return merges;
  const nlohmann::json& list = array_field(json, "merges", where);
  merges.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const nlohmann::json& merge = list[i];
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      continue;
    }
    const std::string line = merge.is_string() ? merge.get<std::string>() : std::string();
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      bad_field(where + ".merges", std::to_string(i), "\"a b\" or [\"a\", \"b\"]", merge);
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

std::optional<std::string> optional_string(const nlohmann::json& json, const std::string& key,
                                           const std::string& where) {
  if (!json.contains(key) || json.at(key).is_null()) return std::nullopt;
  return string_field(json, key, where);
}

std::unique_ptr<Model> bpe_from_json(const nlohmann::json& json, const std::string& where) {
  if (json.contains("dropout") && !json.at("dropout").is_null() && json.at("dropout").get<double>() != 0.0) {
    throw Error("tokenizer",
                where + ".dropout: BPE dropout is for training; expected null, got " + json.at("dropout").dump());
  }
  BpeOptions options;
  options.unk_token = optional_string(json, "unk_token", where);
  options.fuse_unk = bool_or(json, "fuse_unk", false, where);
  options.byte_fallback = bool_or(json, "byte_fallback", false, where);
  options.ignore_merges = bool_or(json, "ignore_merges", false, where);
  options.continuing_subword_prefix = optional_string(json, "continuing_subword_prefix", where);
  options.end_of_word_suffix = optional_string(json, "end_of_word_suffix", where);
  return std::make_unique<Bpe>(tokens_by_id(field(json, "vocab", where), where), merges_of(json, where),
                               std::move(options), where);
}

std::unique_ptr<Model> wordpiece_from_json(const nlohmann::json& json, const std::string& where) {
  WordPieceOptions options;
  options.unk_token = string_or(json, "unk_token", options.unk_token, where);
  options.continuing_subword_prefix =
      string_or(json, "continuing_subword_prefix", options.continuing_subword_prefix, where);
  if (json.contains("max_input_chars_per_word")) {
    const std::int64_t most = integer_field(json, "max_input_chars_per_word", where);
    if (most < 0) bad_field(where, "max_input_chars_per_word", "a count >= 0", json.at("max_input_chars_per_word"));
    options.max_input_chars_per_word = static_cast<std::size_t>(most);
  }
  return std::make_unique<WordPiece>(tokens_by_id(field(json, "vocab", where), where), std::move(options), where);
}

// Unigram's "vocab": [[piece, score], …] by id.
std::unique_ptr<Model> unigram_from_json(const nlohmann::json& json, const std::string& where) {
  const nlohmann::json& vocab = array_field(json, "vocab", where);
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    const nlohmann::json& piece = vocab[i];
    if (!piece.is_array() || piece.size() != 2 || !piece[0].is_string() || !piece[1].is_number()) {
      bad_field(where + ".vocab", std::to_string(i), "[piece, score]", piece);
    }
    pieces.emplace_back(piece[0].get<std::string>(), piece[1].get<double>());
  }
  std::optional<std::int64_t> unk_id;
  if (json.contains("unk_id") && !json.at("unk_id").is_null()) unk_id = integer_field(json, "unk_id", where);
  return std::make_unique<Unigram>(pieces, unk_id, bool_or(json, "byte_fallback", false, where), where);
}

AddedToken added_token_from_json(const nlohmann::json& json, const std::string& where) {
  AddedToken token;
  token.content = string_field(json, "content", where);
  token.id = integer_field(json, "id", where);
  token.special = bool_or(json, "special", false, where);
  token.normalized = bool_or(json, "normalized", !token.special, where);
  token.lstrip = bool_or(json, "lstrip", false, where);
  token.rstrip = bool_or(json, "rstrip", false, where);
  token.single_word = bool_or(json, "single_word", false, where);
  return token;
}

const nlohmann::json& optional_part(const nlohmann::json& json, const char* key) {
  static const nlohmann::json null;
  return json.contains(key) ? json.at(key) : null;
}

}  // namespace

std::unique_ptr<Model> model_from_json(const nlohmann::json& json, const std::string& where) {
  const std::string type = json.contains("type") ? type_of(json, where) : std::string("BPE");
  if (type == "BPE") return bpe_from_json(json, where);
  if (type == "WordPiece") return wordpiece_from_json(json, where);
  if (type == "Unigram") return unigram_from_json(json, where);
  throw Error("tokenizer", where + ": model type '" + type + "' is not supported (supported: BPE, WordPiece, Unigram)");
}

std::unique_ptr<HfTokenizer> HfTokenizer::from_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("tokenizer", "cannot read " + file.string());
  const std::string name = file.string();
  const nlohmann::json json = parse_bounded_json(in, "tokenizer", name);
  if (json.is_discarded() || !json.is_object()) throw Error("tokenizer", name + " is not a JSON object");
  TokenizerParts parts;
  parts.normalizer = normalizer_from_json(optional_part(json, "normalizer"), name + ": normalizer");
  parts.pre_tokenizer = pre_tokenizer_from_json(optional_part(json, "pre_tokenizer"), name + ": pre_tokenizer");
  parts.model = model_from_json(field(json, "model", name), name + ": model");
  parts.post_processor = post_processor_from_json(optional_part(json, "post_processor"), name + ": post_processor");
  parts.decoder = decoder_from_json(optional_part(json, "decoder"), name + ": decoder");
  const nlohmann::json& added = optional_part(json, "added_tokens");
  if (!added.is_null() && !added.is_array()) bad_field(name, "added_tokens", "a list", added);
  for (std::size_t i = 0; i < added.size(); ++i) {
    parts.added_tokens.push_back(added_token_from_json(added[i], name + ": added_tokens[" + std::to_string(i) + "]"));
  }
  return std::make_unique<HfTokenizer>(std::move(parts));
}

}  // namespace peft::hf
