#include "elf_exports.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace peft {
namespace {

#if defined(__x86_64__)
constexpr std::uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr std::uint16_t kHostMachine = EM_AARCH64;
#else
constexpr std::uint16_t kHostMachine = EM_NONE;  // no check of the machine
#endif

class FileBytes {
 public:
  explicit FileBytes(const std::filesystem::path& file) : in_(file, std::ios::binary) {
    std::error_code error;
    size_ = std::filesystem::file_size(file, error);
    if (error) size_ = 0;
  }
  bool good() const { return static_cast<bool>(in_); }
  std::uintmax_t size() const { return size_; }

  // `count` bytes at `offset`, or false when they lie past the end.
  bool read(std::uint64_t offset, void* into, std::uint64_t count) {
    if (offset > size_ || count > size_ - offset) return false;
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char*>(into), static_cast<std::streamsize>(count));
    return static_cast<bool>(in_);
  }

 private:
  std::ifstream in_;
  std::uintmax_t size_ = 0;
};

}  // namespace

std::optional<std::string> elf_export_problem(const std::filesystem::path& file, const std::string& symbol) {
  FileBytes bytes(file);
  if (!bytes.good()) return std::string("cannot be read");
  Elf64_Ehdr header{};
  if (!bytes.read(0, &header, sizeof header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return std::string("not an ELF file");
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
    return std::string("not a 64-bit little-endian ELF file");
  }
  if (header.e_type != ET_DYN)
    return std::string("not a shared library (ELF type " + std::to_string(header.e_type) + ")");
  if (kHostMachine != EM_NONE && header.e_machine != kHostMachine) {
    return "built for another machine (ELF machine " + std::to_string(header.e_machine) + ")";
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0) {
    return std::string("has no section headers to read its exports from");
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  if (!bytes.read(header.e_shoff, sections.data(), sections.size() * sizeof(Elf64_Shdr))) {
    return std::string("its section headers lie past the end of the file");
  }
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_type != SHT_DYNSYM) continue;
    if (section.sh_entsize != sizeof(Elf64_Sym) || section.sh_link >= sections.size()) break;
    const Elf64_Shdr& strings = sections[section.sh_link];
    std::vector<char> names(static_cast<std::size_t>(std::min<std::uint64_t>(strings.sh_size, bytes.size())));
    std::vector<Elf64_Sym> symbols(static_cast<std::size_t>(section.sh_size / sizeof(Elf64_Sym)));
    if (!bytes.read(strings.sh_offset, names.data(), names.size()) ||
        !bytes.read(section.sh_offset, symbols.data(), symbols.size() * sizeof(Elf64_Sym))) {
      return std::string("its dynamic symbol table lies past the end of the file");
    }
    for (const Elf64_Sym& entry : symbols) {
      if (entry.st_name >= names.size() || entry.st_shndx == SHN_UNDEF) continue;
      const unsigned char binding = ELF64_ST_BIND(entry.st_info);
      if (binding != STB_GLOBAL && binding != STB_WEAK) continue;
      const char* name = names.data() + entry.st_name;
      const std::size_t room = names.size() - entry.st_name;
      if (strnlen(name, room) == symbol.size() && std::memcmp(name, symbol.data(), symbol.size()) == 0) {
        return std::nullopt;
      }
    }
    return "does not export '" + symbol + "'";
  }
  return "has no dynamic symbol table (does not export '" + symbol + "')";
}

}  // namespace peft
