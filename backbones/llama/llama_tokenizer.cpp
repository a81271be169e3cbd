#include "llama_tokenizer.h"

#include <dlfcn.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "peft/bounded_json.h"
#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft::llama {

// libpeft_spm's entry points (spm_shim.cpp), opened once per process with RTLD_DEEPBIND.
struct SpmLibrary {
  void* (*load)(const char*, char*, std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  int (*info)(void*, int) = nullptr;
  int (*encode)(void*, const char*, std::size_t, int*, int) = nullptr;
  int (*decode)(void*, const int*, int, char*, int) = nullptr;
  int (*piece_id)(void*, const char*) = nullptr;
};

namespace {

constexpr const char* kShim = "llama_support/libpeft_spm.so";

// The shim beside this plugin: <plugin folder>/llama_support/libpeft_spm.so.
const SpmLibrary& spm_library() {
  static const SpmLibrary library = [] {
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&spm_library), &self) == 0 || self.dli_fname == nullptr) {
      throw Error("llama", "cannot find the llama plugin's own file to locate " + std::string(kShim));
    }
    const fs::path shim = fs::path(self.dli_fname).parent_path() / kShim;
    void* handle = dlopen(shim.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (handle == nullptr) throw Error("llama", "cannot load " + shim.string() + ": " + dlerror());
    SpmLibrary loaded;
    const auto bind = [&](auto& function, const char* name) {
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(dlsym(handle, name));
      if (function == nullptr) throw Error("llama", shim.string() + " has no " + name);
    };
    bind(loaded.load, "peft_spm_load");
    bind(loaded.free, "peft_spm_free");
    bind(loaded.info, "peft_spm_info");
    bind(loaded.encode, "peft_spm_encode");
    bind(loaded.decode, "peft_spm_decode");
    bind(loaded.piece_id, "peft_spm_piece_id");
    return loaded;
  }();
  return library;
}

std::optional<std::int64_t> present_id(int id) { return id < 0 ? std::nullopt : std::optional<std::int64_t>(id); }

// `file` must be a file when it is there at all (a folder of that name opens, and then reads as nothing).
void check_regular_file(const fs::path& file) {
  std::error_code error;
  if (fs::exists(file, error) && !fs::is_regular_file(file, error)) {
    throw Error("llama", file.string() + " is not a file (a model folder holds tokenizer files, not folders of them)");
  }
}

nlohmann::json read_json_object(const fs::path& file) {
  check_regular_file(file);
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  nlohmann::json json = parse_bounded_json(in, "llama", file.string());
  if (!json.is_object()) throw Error("llama", file.string() + " is not a JSON object");
  return json;
}

// A special token as transformers reads it: `"bos_token": "<s>"` or `{"content": "<s>", ...}` in
// tokenizer_config.json, else in special_tokens_map.json; null there means none. Unset in both: the model's own.
std::optional<std::int64_t> special_token(const SpmLibrary& spm, void* processor, const char* key,
                                          std::optional<std::int64_t> model_default,
                                          const std::vector<std::pair<fs::path, nlohmann::json>>& sources) {
  for (const auto& [file, json] : sources) {
    if (!json.contains(key)) continue;
    const nlohmann::json& value = json[key];
    if (value.is_null()) return std::nullopt;
    const nlohmann::json& content = value.is_object() ? value.value("content", nlohmann::json()) : value;
    if (!content.is_string()) {
      throw Error("llama", file.string() + ": " + key + " = " + value.dump() +
                               ", expected a token (a string or {\"content\": ...})");
    }
    const int id = spm.piece_id(processor, content.get<std::string>().c_str());
    if (id < 0) {
      throw Error("llama", file.string() + ": " + key + " '" + content.get<std::string>() +
                               "' is not a piece of tokenizer.model (tokens added on top of it need tokenizer.json, "
                               "not supported yet)");
    }
    return id;
  }
  return model_default;
}

}  // namespace

bool SentencePieceTokenizer::present(const fs::path& folder) {
  return fs::exists(folder / "tokenizer.model") || fs::exists(folder / "tokenizer.json");
}

SentencePieceTokenizer::SentencePieceTokenizer(const fs::path& folder, std::int64_t model_vocab_size) {
  const fs::path model = folder / "tokenizer.model";
  if (!fs::exists(model)) {
    throw Error("llama", (folder / "tokenizer.json").string() +
                             ": a tokenizer.json without tokenizer.model (a fast BPE tokenizer, as Llama-3's) is not "
                             "supported yet; SentencePiece tokenizer.model files are");
  }
  check_regular_file(model);
  const SpmLibrary& spm = spm_library();
  char error[512] = {0};
  processor_ = spm.load(model.c_str(), error, sizeof error);
  if (processor_ == nullptr) throw Error("llama", model.string() + ": not a SentencePiece model: " + error);
  vocab_size_ = spm.info(processor_, 0);
  const fs::path config_file = folder / "tokenizer_config.json";
  const fs::path map_file = folder / "special_tokens_map.json";
  const std::vector<std::pair<fs::path, nlohmann::json>> sources{{config_file, read_json_object(config_file)},
                                                                 {map_file, read_json_object(map_file)}};
  bos_ = special_token(spm, processor_, "bos_token", present_id(spm.info(processor_, 1)), sources);
  eos_ = special_token(spm, processor_, "eos_token", present_id(spm.info(processor_, 2)), sources);
  pad_ = special_token(spm, processor_, "pad_token", present_id(spm.info(processor_, 3)), sources);
  const nlohmann::json& config = sources.front().second;
  const auto flag = [&](const char* key, bool fallback) {
    if (!config.contains(key) || config[key].is_null()) return fallback;
    if (!config[key].is_boolean()) throw Error("llama", config_file.string() + ": " + key + " is not true or false");
    return config[key].get<bool>();
  };
  add_bos_ = flag("add_bos_token", true);
  add_eos_ = flag("add_eos_token", false);
  if (vocab_size_ > model_vocab_size) {
    throw Error("llama", model.string() + " has " + std::to_string(vocab_size_) +
                             " tokens, more than the model's vocab_size = " + std::to_string(model_vocab_size));
  }
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (processor_ != nullptr) spm_library().free(processor_);
}

std::vector<std::int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
  const SpmLibrary& spm = spm_library();
  std::vector<int> ids(text.size() + 8);
  int count = spm.encode(processor_, text.data(), text.size(), ids.data(), static_cast<int>(ids.size()));
  if (count > static_cast<int>(ids.size())) {
    ids.resize(static_cast<std::size_t>(count));
    count = spm.encode(processor_, text.data(), text.size(), ids.data(), count);
  }
  return {ids.begin(), ids.begin() + count};
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::vector<int> narrow;
  narrow.reserve(ids.size());
  for (const std::int64_t id : ids) {
    if (id < 0 || id >= vocab_size_) {
      throw Error("llama", "token id " + std::to_string(id) + " is outside the tokenizer's " +
                               std::to_string(vocab_size_) + " tokens");
    }
    narrow.push_back(static_cast<int>(id));
  }
  const SpmLibrary& spm = spm_library();
  std::string text(ids.size() * 8 + 16, '\0');
  int length = spm.decode(processor_, narrow.data(), static_cast<int>(narrow.size()), text.data(),
                          static_cast<int>(text.size()));
  if (length > static_cast<int>(text.size())) {
    text.resize(static_cast<std::size_t>(length));
    length = spm.decode(processor_, narrow.data(), static_cast<int>(narrow.size()), text.data(), length);
  }
  text.resize(static_cast<std::size_t>(length));
  return text;
}

std::int64_t SentencePieceTokenizer::vocab_size() const { return vocab_size_; }

}  // namespace peft::llama
