#pragma once
// A merged language model written back as the Hugging Face model folder it was loaded from, so that peft run,
// peft generate and transformers' from_pretrained read it as they read the original.

#include <cstdint>
#include <filesystem>
#include <string>

#include "peft/named_tensors.h"

namespace peft {

/// transformers' save_pretrained default: shards of at most "5GB" (decimal).
inline constexpr std::uint64_t kDefaultMaxShardBytes = 5'000'000'000;

/// "5GB", "500MB", "200KiB", "1024" (bytes) as bytes (KB/MB/GB decimal, KiB/MiB/GiB binary, as transformers reads
/// max_shard_size); anything else is a peft::Error naming `text`.
std::uint64_t parse_byte_size(const std::string& text);

/// Writes `tensors` into the folder `out` as Hugging Face lays a model out: each tensor in the dtype the `source`
/// folder's checkpoint stores it in; model.safetensors, or past `max_shard_bytes` model-0000i-of-0000n.safetensors
/// shards with model.safetensors.index.json; and source's config.json, generation_config.json and tokenizer files
/// (tokenizer.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json) copied. Every file is written
/// to a temporary and renamed; nothing else in `out` is touched. A file of the other layout already in `out` (an
/// index where a single file is written, model.safetensors where shards are) would be read instead: a peft::Error,
/// and nothing is written.
void write_model_folder(const std::filesystem::path& out, const std::filesystem::path& source,
                        const NamedTensors& tensors, std::uint64_t max_shard_bytes = kDefaultMaxShardBytes);

}  // namespace peft
