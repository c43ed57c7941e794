#include "sim/traces/torch_archive.hpp"

#include <fmt/format.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "base/config_error.hpp"
#include "base/text_file.hpp"
#include "sim/traces/format.hpp"
#include "sim/traces/zip_handle.hpp"

namespace moesim::sim {
namespace {

struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

ZipHandle open_zip(std::span<const std::byte> bytes, const std::string& source) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive =
      buffer ? zip_open_from_source(buffer, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (archive == nullptr) {
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (buffer) zip_source_free(buffer);
    throw TraceError(source, 0,
                     fmt::format("expected a ZIP archive (torch.save), got: {}", reason));
  }
  zip_error_fini(&error);
  return ZipHandle(archive);
}

// One stored entry's bytes; its size is checked against the archive before anything is allocated.
struct ReadBudget {
  std::uint64_t used = 0;
};

std::vector<std::byte> read_entry(zip_t* archive, zip_uint64_t index, const std::string& name,
                                  std::size_t archive_bytes, ReadBudget& budget,
                                  const std::string& source) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, index, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE) ||
      !(stat.valid & ZIP_STAT_COMP_METHOD))
    throw TraceError(source, 0, fmt::format("expected a readable entry {}", name));
  if (stat.comp_method != ZIP_CM_STORE)
    throw TraceError(source, 0,
                     fmt::format("entry {}: expected a stored (uncompressed) entry as torch.save "
                                 "writes, got compression method {}",
                                 name, stat.comp_method));
  // entries that overlap (one blob named many times) could otherwise multiply the file's size
  if (stat.size > archive_bytes - budget.used)
    throw TraceError(source, 0,
                     fmt::format("entry {}: expected entries totalling at most the "
                                 "archive's {} bytes, got {} more after {}",
                                 name, archive_bytes, stat.size, budget.used));
  budget.used += stat.size;
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive, index, 0));
  std::vector<std::byte> bytes(stat.size);
  if (!file ||
      zip_fread(file.get(), bytes.data(), stat.size) != static_cast<zip_int64_t>(stat.size))
    throw TraceError(source, 0,
                     fmt::format("entry {}: expected {} readable bytes (the archive is "
                                 "damaged: {})",
                                 name, stat.size, zip_strerror(archive)));
  return bytes;
}

// Finds <name>/data.pkl (exactly one) and reads it and every <name>/data/<key> storage.
void read_entries(zip_t* archive, std::size_t archive_bytes, TorchArchive& out) {
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  std::string prefix;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const char* raw = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    const std::string name = raw ? raw : "";
    if (!name.ends_with("/data.pkl") || name.find('/') != name.size() - 9) continue;
    if (!prefix.empty())
      throw TraceError(out.source, 0,
                       fmt::format("expected one data.pkl, got {} and {}", out.pickle_entry, name));
    out.pickle_entry = name;
    prefix = name.substr(0, name.size() - 8);
  }
  if (prefix.empty())
    throw TraceError(out.source, 0,
                     "expected a torch.save archive with <name>/data.pkl, found no data.pkl");
  const std::string storage_prefix = prefix + "data/";
  ReadBudget budget;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    const char* raw = zip_get_name(archive, index, 0);
    const std::string name = raw ? raw : "";
    if (name == out.pickle_entry) {
      const auto bytes = read_entry(archive, index, name, archive_bytes, budget, out.source);
      out.document = parse_pickle(bytes, fmt::format("{} (entry {})", out.source, name));
    } else if (name.starts_with(storage_prefix)) {
      out.storages[name.substr(storage_prefix.size())] =
          read_entry(archive, index, name, archive_bytes, budget, out.source);
    } else if (name == prefix + "byteorder") {
      const auto bytes = read_entry(archive, index, name, archive_bytes, budget, out.source);
      if (std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()) != "little")
        throw TraceError(out.source, 0, fmt::format("entry {}: expected 'little'", name));
    }
  }
}

int element_bytes(const std::string& dtype) {
  if (dtype == "Byte" || dtype == "Char" || dtype == "Bool" || dtype == "uint8" ||
      dtype == "int8" || dtype == "bool")
    return 1;
  if (dtype == "Short" || dtype == "int16") return 2;
  if (dtype == "Int" || dtype == "int32") return 4;
  if (dtype == "Long" || dtype == "int64") return 8;
  return 0;
}

bool is_unsigned(const std::string& dtype) {
  return dtype == "Byte" || dtype == "Bool" || dtype == "uint8" || dtype == "bool";
}

}  // namespace

bool looks_like_zip(std::string_view prefix) { return prefix.starts_with("PK\x03\x04"); }

TorchArchive parse_torch_archive(std::span<const std::byte> bytes, const std::string& source) {
  TorchArchive out;
  out.source = source;
  const ZipHandle archive = open_zip(bytes, source);
  read_entries(archive.get(), bytes.size(), out);
  return out;
}

TorchArchive read_torch_archive(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  std::ifstream in(path, std::ios::binary);
  if (error || !in) throw ConfigError(path, {{"/", "cannot open the file"}});
  note_input_file(path);
  std::vector<std::byte> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    throw ConfigError(path, {{"/", "cannot read the whole file"}});
  return parse_torch_archive(bytes, path);
}

IntegerTensor integer_tensor(const TorchArchive& archive, const PickleValue& value,
                             const std::string& what) {
  const auto fail = [&](const std::string& message) {
    throw TraceError(fmt::format("{} (entry {})", archive.source, archive.pickle_entry),
                     value.offset, fmt::format("{}: {}", what, message));
  };
  if (value.kind != PickleKind::Tensor)
    fail(fmt::format("expected a tensor, got {}", pickle_kind_name(value.kind)));
  const PickleTensor& tensor = archive.document.tensor(value);
  const int width = element_bytes(tensor.dtype);
  if (width == 0) fail(fmt::format("expected an integer tensor, got dtype {}", tensor.dtype));
  const auto storage = archive.storages.find(tensor.storage_key);
  if (storage == archive.storages.end())
    fail(fmt::format("expected the archive to hold storage data/{}", tensor.storage_key));
  if (tensor.shape.size() > 8 ||
      static_cast<std::uint64_t>(tensor.storage_offset) > tensor.storage_elements)
    fail(
        fmt::format("expected at most 8 dimensions and an offset inside the storage, got {} and "
                    "{}",
                    tensor.shape.size(), tensor.storage_offset));
  // the last element any index can reach must lie inside the storage's bytes
  std::uint64_t elements = 1, last = static_cast<std::uint64_t>(tensor.storage_offset);
  for (std::size_t d = 0; d < tensor.shape.size(); ++d) {
    const auto size = static_cast<std::uint64_t>(tensor.shape[d]);
    if (size != 0 && elements > kMaxTensorElements / size)
      fail(fmt::format("expected at most {} elements", kMaxTensorElements));
    elements *= size;
    if (size > 0 && static_cast<std::uint64_t>(tensor.stride[d]) > kMaxTensorElements)
      fail(fmt::format("expected strides below {}", kMaxTensorElements));
    if (size > 0) last += (size - 1) * static_cast<std::uint64_t>(tensor.stride[d]);
  }
  const std::uint64_t storage_bytes = storage->second.size();
  if (elements > 0 && (last >= tensor.storage_elements || last >= storage_bytes / width))
    fail(fmt::format("expected elements inside the storage ({} elements, {} bytes), got one at {}",
                     tensor.storage_elements, storage_bytes, last));
  IntegerTensor out{tensor.shape, {}};
  out.values.reserve(elements);
  std::vector<std::int64_t> index(tensor.shape.size(), 0);
  for (std::uint64_t i = 0; i < elements; ++i) {
    std::uint64_t at = static_cast<std::uint64_t>(tensor.storage_offset);
    for (std::size_t d = 0; d < index.size(); ++d)
      at += static_cast<std::uint64_t>(index[d] * tensor.stride[d]);
    const auto raw = load_le(storage->second.data() + at * width, width);
    const int shift = 64 - 8 * width;
    out.values.push_back(is_unsigned(tensor.dtype)
                             ? static_cast<std::int64_t>(raw)
                             : static_cast<std::int64_t>(raw << shift) >> shift);
    for (std::size_t d = index.size(); d-- > 0;) {  // odometer over the shape
      if (++index[d] < tensor.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace moesim::sim
