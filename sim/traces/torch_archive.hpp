#pragma once
// torch.save's file: a ZIP archive (read with libzip) holding <name>/data.pkl, a pickle of the
// saved object, and <name>/data/<key>, the raw little-endian bytes of each tensor storage. Only
// stored (uncompressed) entries are read, as torch writes them, so no entry can expand past the
// file's own size.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "sim/traces/pickle_reader.hpp"

namespace moesim::sim {

struct TorchArchive {
  std::string source;                                      // the file, for messages
  std::string pickle_entry;                                // "<name>/data.pkl"
  PickleDocument document;                                 // the saved object
  std::map<std::string, std::vector<std::byte>> storages;  // key → bytes
};

// An integer (or bool) tensor's elements, row-major, whatever its strides.
struct IntegerTensor {
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> values;
  std::int64_t at(std::size_t i, std::size_t j) const {
    return values[i * static_cast<std::size_t>(shape[1]) + j];
  }
  std::int64_t at(std::size_t i, std::size_t j, std::size_t k) const {
    return values[(i * static_cast<std::size_t>(shape[1]) + j) *
                      static_cast<std::size_t>(shape[2]) +
                  k];
  }
};

// Elements one tensor may hold (2^26, 512 MiB as int64): far past any routing record.
inline constexpr std::uint64_t kMaxTensorElements = std::uint64_t{1} << 26;

// Parses an archive image; a TraceError (byte offset into the file, or into the named entry)
// for anything malformed.
TorchArchive parse_torch_archive(std::span<const std::byte> bytes, const std::string& source);
TorchArchive read_torch_archive(const std::string& path);

// True when `prefix` (a file's first bytes) starts a ZIP archive ("PK\3\4").
bool looks_like_zip(std::string_view prefix);

// `value` as integers: a TraceError naming `what` unless it is an integer or bool tensor whose
// elements all lie inside its storage.
IntegerTensor integer_tensor(const TorchArchive& archive, const PickleValue& value,
                             const std::string& what);

}  // namespace moesim::sim
