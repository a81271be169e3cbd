// libpeft_spm: SentencePiece behind a C interface, for the llama plugin to open with RTLD_DEEPBIND.
//
// Debian's libsentencepiece carries its own protobuf (3.14) and exports its symbols; LibTorch has already loaded the
// system libprotobuf (3.21) into the process, whose symbols would win, and sentencepiece then fails its protobuf
// version check or crashes (docs/build.md). Opened with RTLD_DEEPBIND, this library and its sentencepiece resolve
// their symbols among themselves first. Nothing here throws: errors come back as text.
#include <sentencepiece_processor.h>

#include <cstring>
#include <string>
#include <vector>

#define SHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

void copy_text(const std::string& text, char* out, std::size_t capacity) {
  if (capacity == 0) return;
  const std::size_t length = std::min(text.size(), capacity - 1);
  std::memcpy(out, text.data(), length);
  out[length] = '\0';
}

}  // namespace

SHIM_EXPORT void* peft_spm_load(const char* path, char* error, std::size_t error_size) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->Load(path);
  if (!status.ok()) {
    copy_text(status.ToString(), error, error_size);
    delete processor;
    return nullptr;
  }
  return processor;
}

SHIM_EXPORT void peft_spm_free(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

// 0: pieces, 1: bos, 2: eos, 3: pad (-1: none).
SHIM_EXPORT int peft_spm_info(void* processor, int what) {
  const auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(processor);
  switch (what) {
    case 0:
      return p->GetPieceSize();
    case 1:
      return p->bos_id();
    case 2:
      return p->eos_id();
    default:
      return p->pad_id();
  }
}

// The id of `piece` (`</s>`, `<unk>`), or -1 when the model has no such piece.
SHIM_EXPORT int peft_spm_piece_id(void* processor, const char* piece) {
  const auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(processor);
  const int id = p->PieceToId(piece);
  return id == p->unk_id() && p->IdToPiece(id) != piece ? -1 : id;
}

// Writes up to `capacity` ids; returns how many there are (call again with more room when larger).
SHIM_EXPORT int peft_spm_encode(void* processor, const char* text, std::size_t length, int* ids, int capacity) {
  const std::vector<int> encoded =
      static_cast<sentencepiece::SentencePieceProcessor*>(processor)->EncodeAsIds(std::string(text, length));
  for (int i = 0; i < capacity && i < static_cast<int>(encoded.size()); ++i)
    ids[i] = encoded[static_cast<std::size_t>(i)];
  return static_cast<int>(encoded.size());
}

// Writes up to `capacity` bytes (no terminator); returns how many there are.
SHIM_EXPORT int peft_spm_decode(void* processor, const int* ids, int count, char* out, int capacity) {
  const std::string text =
      static_cast<sentencepiece::SentencePieceProcessor*>(processor)->DecodeIds(std::vector<int>(ids, ids + count));
  std::memcpy(out, text.data(), std::min<std::size_t>(text.size(), static_cast<std::size_t>(std::max(capacity, 0))));
  return static_cast<int>(text.size());
}
