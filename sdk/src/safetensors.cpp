#include "peft/safetensors.h"
#include "peft/atomic_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ops/empty.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "peft/bounded_json.h"
#include "peft/error.h"

namespace fs = std::filesystem;

namespace peft {
namespace {

// A header larger than this is not a checkpoint header but a corrupt length; refusing it avoids a huge allocation.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeName kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16}, {"I64", at::kLong},
    {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},  {"U8", at::kByte},       {"BOOL", at::kBool},
};

at::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& dtype : kDtypes) {
    if (name == dtype.name) return dtype.type;
  }
  throw Error("safetensors", where + ": unknown dtype '" + name + "', expected one of F64, F32, F16, BF16, I64, I32, " +
                                 "I16, I8, U8, BOOL");
}

const char* dtype_name(at::ScalarType type, const std::string& where) {
  for (const auto& dtype : kDtypes) {
    if (type == dtype.type) return dtype.name;
  }
  throw Error("safetensors", where + ": cannot write dtype " + std::string(c10::toString(type)));
}

// A read-only mapping of a whole file, unmapped when it goes.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("safetensors", "cannot open " + file.string() + ": " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      ::close(fd);
      throw Error("safetensors", file.string() + " is not a regular file");
    }
    size_ = static_cast<std::uint64_t>(info.st_size);
    if (size_ > 0) {
      void* data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (data == MAP_FAILED) throw Error("safetensors", "cannot map " + file.string() + ": " + std::strerror(errno));
      data_ = static_cast<const std::uint8_t*>(data);
    } else {
      ::close(fd);
    }
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::uint64_t size() const { return size_; }

  /// Drops the pages of bytes [begin, end) from this process (they stay in the page cache and fault back in from
  /// the file if read again): a tensor copied out no longer counts twice in resident memory while a large
  /// checkpoint loads.
  void release(std::uint64_t begin, std::uint64_t end) const {
    static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t first = begin / page * page;
    const std::uint64_t last = std::min(size_, (end + page - 1) / page * page);
    if (data_ == nullptr || last <= first) return;
    ::madvise(const_cast<std::uint8_t*>(data_) + first, last - first, MADV_DONTNEED);
  }

 private:
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

std::uint64_t read_le64(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

struct Entry {
  std::string name;
  at::ScalarType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin;
  std::uint64_t end;
};

Entry parse_entry(const std::string& name, const nlohmann::json& spec, std::uint64_t data_size,
                  const std::string& file) {
  const std::string where = file + ": tensor '" + name + "'";
  if (!spec.is_object() || !spec.contains("dtype") || !spec.contains("shape") || !spec.contains("data_offsets")) {
    throw Error("safetensors", where + " lacks dtype, shape or data_offsets");
  }
  const auto& dtype = spec["dtype"];
  const auto& shape = spec["shape"];
  const auto& offsets = spec["data_offsets"];
  if (!dtype.is_string()) throw Error("safetensors", where + ": dtype is not a string");
  if (!shape.is_array()) throw Error("safetensors", where + ": shape is not a list");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw Error("safetensors", where + ": data_offsets is not a pair of non-negative integers");
  }
  Entry entry{name,
              dtype_from_name(dtype.get<std::string>(), where),
              {},
              offsets[0].get<std::uint64_t>(),
              offsets[1].get<std::uint64_t>()};
  std::uint64_t numel = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned()) throw Error("safetensors", where + ": shape " + shape.dump() + " is not sizes");
    const auto size = dim.get<std::uint64_t>();
    if (size != 0 && numel > (std::uint64_t{1} << 62) / size) {
      throw Error("safetensors", where + ": shape " + shape.dump() + " is too large");
    }
    numel *= size;
    entry.shape.push_back(static_cast<std::int64_t>(size));
  }
  if (entry.begin > entry.end || entry.end > data_size) {
    throw Error("safetensors", where + ": data_offsets [" + std::to_string(entry.begin) + ", " +
                                   std::to_string(entry.end) + "] outside the " + std::to_string(data_size) +
                                   " data bytes (file truncated?)");
  }
  const std::uint64_t expected = numel * c10::elementSize(entry.dtype);
  if (entry.end - entry.begin != expected) {
    throw Error("safetensors", where + ": " + std::to_string(entry.end - entry.begin) + " data bytes for shape " +
                                   shape.dump() + " " + dtype.get<std::string>() + ", expected " +
                                   std::to_string(expected));
  }
  return entry;
}

void check_no_overlap(std::vector<Entry> entries, const std::string& file) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].begin < entries[i - 1].end) {
      throw Error("safetensors",
                  file + ": tensors '" + entries[i - 1].name + "' and '" + entries[i].name + "' overlap in the data");
    }
  }
}

// The header as JSON. A JSON parser keeps the last of two equal keys, so a tensor named twice would load whichever
// came last without a word: a repeated name is refused (the Rust safetensors refuses it too).
nlohmann::json parse_header(const char* begin, const char* end, const std::string& file) {
  std::set<std::string> names;
  std::string repeated;
  const nlohmann::json::parser_callback_t on_key = [&](int depth, nlohmann::json::parse_event_t event,
                                                       nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string() &&
        !names.insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json header = nlohmann::json::parse(begin, end, depth_bounded("safetensors", file, on_key), false);
  if (header.is_discarded() || !header.is_object()) {
    throw Error("safetensors", file + ": the header is not a JSON object (not a safetensors file?)");
  }
  if (!repeated.empty()) {
    throw Error("safetensors", file + ": the header names tensor '" + repeated + "' twice (a corrupt or forged file)");
  }
  return header;
}

}  // namespace

const at::Tensor* TensorFile::find(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

const at::Tensor& TensorFile::at(const std::string& name) const {
  if (const auto* tensor = find(name)) return *tensor;
  throw Error("safetensors", source + " has no tensor '" + name + "'");
}

struct SafetensorsFile::Impl {
  explicit Impl(const fs::path& path) : file(path.string()), mapped(path) {}

  /// Where `name`'s data lies; a peft::Error naming the file when it has no such tensor.
  const Entry& entry(const std::string& name) const {
    const auto found = index.find(name);
    if (found == index.end()) throw Error("safetensors", file + " has no tensor '" + name + "'");
    return entries[found->second];
  }

  std::string file;
  MappedFile mapped;
  std::vector<TensorInfo> infos;
  std::vector<Entry> entries;  // as infos, with where the data lies
  std::map<std::string, std::size_t> index;
  std::map<std::string, std::string> metadata;
  const std::uint8_t* data = nullptr;
};

SafetensorsFile::SafetensorsFile(const fs::path& path) : impl_(std::make_unique<Impl>(path)) {
  Impl& f = *impl_;
  const std::string& file = f.file;
  const MappedFile& mapped = f.mapped;
  if (mapped.size() < 8) {
    throw Error("safetensors", file + ": " + std::to_string(mapped.size()) +
                                   " bytes is too short for a safetensors file (truncated?)");
  }
  const std::uint64_t header_size = read_le64(mapped.data());
  if (header_size > mapped.size() - 8 || header_size > kMaxHeaderBytes) {
    throw Error("safetensors", file + ": header length " + std::to_string(header_size) + " runs past the end of the " +
                                   std::to_string(mapped.size()) + "-byte file (truncated or not safetensors?)");
  }
  const auto* header_begin = reinterpret_cast<const char*>(mapped.data() + 8);
  const nlohmann::json header = parse_header(header_begin, header_begin + header_size, file);
  const std::uint64_t data_size = mapped.size() - 8 - header_size;
  f.data = mapped.data() + 8 + header_size;
  for (const auto& [name, spec] : header.items()) {
    if (name == "__metadata__") {
      if (!spec.is_object()) throw Error("safetensors", file + ": __metadata__ is not an object");
      for (const auto& [key, value] : spec.items()) {
        if (!value.is_string()) throw Error("safetensors", file + ": __metadata__." + key + " is not a string");
        f.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    f.entries.push_back(parse_entry(name, spec, data_size, file));
  }
  check_no_overlap(f.entries, file);
  // File order is data order: sort by offset so names come back as the writer laid them out.
  std::stable_sort(f.entries.begin(), f.entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (const auto& entry : f.entries) {
    f.index.emplace(entry.name, f.infos.size());
    f.infos.push_back({entry.name, entry.dtype, entry.shape});
  }
}

SafetensorsFile::~SafetensorsFile() = default;

const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->infos; }

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto found = impl_->index.find(name);
  return found == impl_->index.end() ? nullptr : &impl_->infos[found->second];
}

at::Tensor SafetensorsFile::read(const std::string& name) const {
  const Entry& entry = impl_->entry(name);
  at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(entry.dtype));
  // Copied, not wrapped: the mapping goes away, and data in the file need not be aligned for its dtype.
  if (entry.end > entry.begin) {
    std::memcpy(tensor.data_ptr(), impl_->data + entry.begin, entry.end - entry.begin);
    const auto offset = static_cast<std::uint64_t>(impl_->data - impl_->mapped.data());
    impl_->mapped.release(offset + entry.begin, offset + entry.end);
  }
  return tensor;
}

void SafetensorsFile::read_into(const std::string& name, const at::Tensor& target) const {
  const Entry& entry = impl_->entry(name);
  const std::int64_t count = static_cast<std::int64_t>(
      std::accumulate(entry.shape.begin(), entry.shape.end(), std::int64_t{1}, std::multiplies<std::int64_t>()));
  if (count != target.numel()) {
    throw Error("safetensors", impl_->file + ": '" + name + "' has " + std::to_string(count) +
                                   " elements, the tensor it is read into " + std::to_string(target.numel()));
  }
  if (!target.is_contiguous()) {
    target.copy_(read(name).view(target.sizes()));
    return;
  }
  const at::Tensor flat = target.view({-1});
  const std::int64_t item = static_cast<std::int64_t>(c10::elementSize(entry.dtype));
  const std::int64_t chunk = std::max<std::int64_t>(1, (std::int64_t{4} << 20) / item);  // 4 MiB at a time
  const at::Tensor staging = at::empty({std::min(chunk, count)}, at::TensorOptions().dtype(entry.dtype));
  const auto offset = static_cast<std::uint64_t>(impl_->data - impl_->mapped.data());
  for (std::int64_t done = 0; done < count; done += chunk) {
    const std::int64_t n = std::min(chunk, count - done);
    const std::uint64_t begin = entry.begin + static_cast<std::uint64_t>(done * item);
    const std::uint64_t bytes = static_cast<std::uint64_t>(n * item);
    std::memcpy(staging.data_ptr(), impl_->data + begin, bytes);
    impl_->mapped.release(offset + begin, offset + begin + bytes);
    flat.narrow(0, done, n).copy_(staging.narrow(0, 0, n));
  }
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->metadata; }

const std::string& SafetensorsFile::source() const { return impl_->file; }

TensorFile read_safetensors(const fs::path& path) {
  const SafetensorsFile file(path);
  TensorFile result;
  result.source = file.source();
  result.metadata = file.metadata();
  for (const auto& info : file.tensors()) result.tensors.emplace_back(info.name, file.read(info.name));
  return result;
}

namespace {

// The crash tests' fault injection: PEFT_CRASH_DURING_WRITE="<text>:<n>" kills the process with SIGKILL half-way
// through the n-th write of a file whose path contains <text> (counting from 1), leaving a partial temporary file.
void crash_here_if_asked(const std::string& file) {
  static const char* const request = std::getenv("PEFT_CRASH_DURING_WRITE");
  if (request == nullptr) return;
  const std::string text(request);
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || file.find(text.substr(0, colon)) == std::string::npos) return;
  static long writes = 0;
  if (++writes == std::atol(text.c_str() + colon + 1)) ::raise(SIGKILL);
}

}  // namespace

void write_safetensors(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string file = path.string();
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || header.contains(name)) {
      throw Error("safetensors", file + ": tensor name '" + name + "' is reserved or repeated");
    }
    contiguous.push_back(tensor.detach().to(at::kCPU).contiguous());
    const std::uint64_t bytes = contiguous.back().nbytes();
    header[name] = {{"dtype", dtype_name(tensor.scalar_type(), file + ": tensor '" + name + "'")},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // data starts 8-byte aligned

  write_file_atomically(path, [&](std::ostream& out) {
    std::uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(header_text.size() >> (8 * i));
    out.write(reinterpret_cast<const char*>(length), 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (std::size_t i = 0; i < contiguous.size(); ++i) {
      if (i == contiguous.size() / 2) {
        out.flush();
        crash_here_if_asked(file);
      }
      const at::Tensor& tensor = contiguous[i];
      out.write(static_cast<const char*>(tensor.data_ptr()), static_cast<std::streamsize>(tensor.nbytes()));
    }
  });
}

}  // namespace peft
